"""An OpenID Connect provider on loopback for Warren's login tests, built on authlib's
OAuth 2.0 / OpenID Connect server (its Flask AuthorizationServer, the authorization
code grant with the OpenID Connect and PKCE extensions) and Flask.

It does what GitLab does for an application: discovery, a login form at /authorize, the
authorization code flow with PKCE (required) and client_secret_basic, ID tokens signed
RS256 with the key published at /jwks, `preferred_username` and `groups` claims. POST
/mode switches what the next ID tokens get wrong, so the tests can show Warren refusing
them: good, other-key (signed by a key the JWKS does not hold), expired, wrong-audience.

    python3 oidc_provider.py CLIENT_ID CLIENT_SECRET REDIRECT_URI
prints "listening PORT" once it serves; users: alice (groups corp, corp/backend) and bob.
"""
import html
import sys
import threading
import time

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.jose import JsonWebKey
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core import grants as oidc_grants
from authlib.oidc.core.models import AuthorizationCodeMixin
from flask import Flask, jsonify, request
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


class User:
    def __init__(self, name):
        self.name = name

    def get_user_id(self):
        return "id-" + self.name


class Client(ClientMixin):
    def get_client_id(self):
        return CLIENT_ID

    def get_default_redirect_uri(self):
        return REDIRECT_URI

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in ("openid", "profile", "email"))

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri == REDIRECT_URI

    def check_client_secret(self, client_secret):
        return client_secret == CLIENT_SECRET

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "client_secret_basic"

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


CLIENT = Client()


class AuthorizationCode(AuthorizationCodeMixin):
    def __init__(self, code, user, redirect_uri, scope, nonce, challenge, method):
        self.code, self.user, self.redirect_uri, self.scope = code, user, redirect_uri, scope
        self.nonce, self.code_challenge, self.code_challenge_method = nonce, challenge, method
        self.auth_time = int(time.time())

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

    def save_authorization_code(self, code, request):
        data = request.payload.data
        item = AuthorizationCode(code, request.user, request.payload.redirect_uri, request.payload.scope, data.get("nonce"),
                                 data.get("code_challenge"), data.get("code_challenge_method"))
        with lock:
            codes[code] = item
        return item

    def query_authorization_code(self, code, client):
        with lock:
            return codes.get(code)

    def delete_authorization_code(self, authorization_code):
        with lock:
            codes.pop(authorization_code.code, None)  # a code is good once

    def authenticate_user(self, authorization_code):
        return authorization_code.user


class OpenIDCode(oidc_grants.OpenIDCode):
    def exists_nonce(self, nonce, request):
        return False

    def resolve_client_private_key(self, client):
        return (OTHER_KEY if mode["id_token"] == "other-key" else KEY).as_dict(is_private=True)

    def get_client_algorithm(self, client):
        return "RS256"

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": "k1"}

    def get_client_claims(self, client):
        now = int(time.time())
        claims = {"iss": issuer, "aud": [CLIENT_ID], "iat": now, "exp": now + 300}
        if mode["id_token"] == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 1800
        elif mode["id_token"] == "wrong-audience":
            claims["aud"] = ["some-other-app"]
        return claims

    def generate_user_info(self, user, scope):
        return UserInfo(sub=user.get_user_id(), preferred_username=user.name, groups=USERS[user.name][1])


server = AuthorizationServer(app, query_client=lambda client_id: CLIENT if client_id == CLIENT_ID else None,
                             save_token=lambda token, request: None)
server.register_grant(AuthorizationCodeGrant, [OpenIDCode(require_nonce=True), CodeChallenge(required=True)])


@app.get("/.well-known/openid-configuration")
def discovery():
    return jsonify(issuer=issuer, authorization_endpoint=issuer + "/authorize", token_endpoint=issuer + "/token",
                   jwks_uri=issuer + "/jwks", response_types_supported=["code"], subject_types_supported=["public"],
                   id_token_signing_alg_values_supported=["RS256"], code_challenge_methods_supported=["S256"])


@app.get("/jwks")
def jwks():
    return jsonify(keys=[KEY.as_dict(is_private=False, alg="RS256", use="sig")])


@app.get("/authorize")
def authorize_form():
    try:
        server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return error.description or error.error, 400
    hidden = "".join('<input type="hidden" name="%s" value="%s">' % (html.escape(k), html.escape(v)) for k, v in request.args.items())
    return ('<!DOCTYPE html><html><body><form method="post" action="/authorize">%s'
            '<input id="username" name="username"><input id="password" name="password" type="password">'
            '<button id="login" type="submit">Sign in</button></form></body></html>' % hidden)


@app.post("/authorize")
def authorize():
    name = request.form.get("username", "")
    if name not in USERS or USERS[name][0] != request.form.get("password"):
        return "wrong user name or password", 401
    return server.create_authorization_response(grant_user=User(name))


@app.post("/token")
def token():
    return server.create_token_response()


@app.post("/mode")
def set_mode():
    mode["id_token"] = request.form.get("id_token", "good")
    return "ok\n"


if __name__ == "__main__":
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    issuer = "http://127.0.0.1:%d" % srv.server_port
    print("listening %d" % srv.server_port, flush=True)
    srv.serve_forever()
