"""The API's typed settings, built once from the site file's ``[api]`` section and passed in."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from sitefile import Site


class ApiSettings(BaseModel):
    """Everything the API needs to know that is not in the request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database: Path
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    rate_limit_per_min: int = Field(default=600, ge=1, description="[1/min] per key")
    rate_burst: int = Field(default=60, ge=1, description="requests a key may send at once")
    command_wait_s: float = Field(default=10.0, ge=0, le=60,
                                  description="how long a command waits for the controller")
    command_expires_s: float = Field(default=60.0, gt=0, le=3600,
                                     description="a command not picked up by then is rejected")
    command_poll_s: float = Field(default=0.1, gt=0, le=5)
    stream_interval_s: float = Field(default=2.0, gt=0, le=60)
    stream_max_s: float = Field(default=3600.0, gt=0, description="a stream ends after this")
    max_body_bytes: int = Field(default=16_384, ge=256)

    @classmethod
    def from_site(cls, site: Site, **overrides: object) -> ApiSettings:
        """Settings from the site's ``[api]`` section, with explicit overrides (CLI options)."""
        base: dict[str, object] = {
            "database": site.api.database,
            "host": site.api.host,
            "port": site.api.port,
            "rate_limit_per_min": site.api.rate_limit_per_min,
        }
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(base)
