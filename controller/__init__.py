"""The on-site runtime: device register maps, Modbus transport, control cycle, SQLite store."""
