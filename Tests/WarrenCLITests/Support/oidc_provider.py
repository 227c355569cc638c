"""An OpenID Connect provider on loopback for Warren's login tests, built on authlib
(JSON Web Keys and signed ID tokens, the PKCE S256 challenge) and Flask.

It does what GitLab does for an application: discovery, a login form at /authorize, the
authorization code flow with PKCE and client_secret_basic, ID tokens signed RS256 with
the key published at /jwks, `preferred_username` and `groups` claims. POST /mode switches
what the next ID tokens get wrong, so the tests can show Warren refusing them:
good, other-key (signed by a key the JWKS does not hold), expired, wrong-audience.

    python3 oidc_provider.py CLIENT_ID CLIENT_SECRET REDIRECT_URI
prints "listening PORT" once it serves; users: alice (groups corp, corp/backend) and bob.
"""
import html
import secrets
import sys
import threading
import time

from authlib.jose import JsonWebKey, jwt
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import Flask, jsonify, redirect, request
from werkzeug.serving import make_server

CLIENT_ID, CLIENT_SECRET, REDIRECT_URI = sys.argv[1], sys.argv[2], sys.argv[3]
USERS = {"alice": ("alice-password", ["corp", "corp/backend"]), "bob": ("bob-password", [])}
KEY = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "k1"})
OTHER_KEY = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "k1"})
mode = {"id_token": "good"}
codes = {}
lock = threading.Lock()
app = Flask(__name__)
issuer = ""


@app.get("/.well-known/openid-configuration")
def discovery():
    return jsonify(issuer=issuer, authorization_endpoint=issuer + "/authorize", token_endpoint=issuer + "/token",
                   jwks_uri=issuer + "/jwks", response_types_supported=["code"], subject_types_supported=["public"],
                   id_token_signing_alg_values_supported=["RS256"], code_challenge_methods_supported=["S256"])


@app.get("/jwks")
def jwks():
    return jsonify(keys=[KEY.as_dict(is_private=False, alg="RS256", use="sig")])


def check_request(args):
    if args.get("client_id") != CLIENT_ID or args.get("redirect_uri") != REDIRECT_URI:
        return "unknown client or redirect_uri"
    if args.get("response_type") != "code" or args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
        return "want response_type=code with a PKCE S256 challenge"
    return None


@app.get("/authorize")
def authorize_form():
    problem = check_request(request.args)
    if problem:
        return problem, 400
    hidden = "".join('<input type="hidden" name="%s" value="%s">' % (html.escape(k), html.escape(v)) for k, v in request.args.items())
    return ('<!DOCTYPE html><html><body><form method="post" action="/authorize">%s'
            '<input id="username" name="username"><input id="password" name="password" type="password">'
            '<button id="login" type="submit">Sign in</button></form></body></html>' % hidden)


@app.post("/authorize")
def authorize():
    problem = check_request(request.form)
    if problem:
        return problem, 400
    user = request.form.get("username", "")
    if user not in USERS or USERS[user][0] != request.form.get("password"):
        return "wrong user name or password", 401
    code = secrets.token_urlsafe(24)
    with lock:
        codes[code] = dict(user=user, nonce=request.form.get("nonce"), challenge=request.form["code_challenge"])
    return redirect("%s?code=%s&state=%s" % (REDIRECT_URI, code, request.form.get("state", "")))


@app.post("/token")
def token():
    auth = request.authorization
    if not auth or auth.username != CLIENT_ID or auth.password != CLIENT_SECRET:
        return jsonify(error="invalid_client"), 401
    with lock:
        grant = codes.pop(request.form.get("code", ""), None)  # a code is good once
    if grant is None or request.form.get("redirect_uri") != REDIRECT_URI:
        return jsonify(error="invalid_grant"), 400
    if create_s256_code_challenge(request.form.get("code_verifier", "")) != grant["challenge"]:
        return jsonify(error="invalid_grant", error_description="PKCE"), 400
    now = int(time.time())
    claims = dict(iss=issuer, sub="id-" + grant["user"], aud=CLIENT_ID, iat=now, exp=now + 300, nonce=grant["nonce"],
                  preferred_username=grant["user"], groups=USERS[grant["user"]][1])
    key = KEY
    if mode["id_token"] == "other-key":
        key = OTHER_KEY
    elif mode["id_token"] == "expired":
        claims["iat"], claims["exp"] = now - 3600, now - 1800
    elif mode["id_token"] == "wrong-audience":
        claims["aud"] = "some-other-app"
    id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key).decode()
    return jsonify(access_token=secrets.token_urlsafe(24), token_type="Bearer", expires_in=300, id_token=id_token)


@app.post("/mode")
def set_mode():
    mode["id_token"] = request.form.get("id_token", "good")
    return "ok\n"


if __name__ == "__main__":
    server = make_server("127.0.0.1", 0, app, threaded=True)
    issuer = "http://127.0.0.1:%d" % server.server_port
    print("listening %d" % server.server_port, flush=True)
    server.serve_forever()
