// The API call both pages make: the session's key in X-API-Key, JSON in and out, and a
// revoked key (401 once logged in) logs the page out.
function apiClient(session, logout) {
  return async function api(path, opts) {
    const o = Object.assign({ headers: {} }, opts || {});
    o.headers = Object.assign({ "X-API-Key": session.key }, o.headers);
    if (o.json !== undefined) {
      o.body = JSON.stringify(o.json);
      o.headers["Content-Type"] = "application/json";
      o.method = o.method || "POST";
    }
    const r = await fetch(path, o);
    if (r.status === 401 && session.me) logout();  // the key was revoked
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    return { status: r.status, body, location: r.headers.get("Location") };
  };
}
