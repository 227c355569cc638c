"""A GitHub-Enterprise-shaped server on loopback for Warren's GitHub login tests (Flask):
the OAuth app's authorization page and code exchange (with PKCE, as GitHub supports it),
and the three API calls Warren makes: /api/v3/user, /api/v3/user/orgs and
/api/v3/user/teams.

    python3 github_api.py CLIENT_ID CLIENT_SECRET REDIRECT_URI
prints "listening PORT"; users: carol (organization corp, team corp/backend) and dan.
"""
import html
import secrets
import sys
import threading

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import Flask, jsonify, redirect, request
from werkzeug.serving import make_server

CLIENT_ID, CLIENT_SECRET, REDIRECT_URI = sys.argv[1], sys.argv[2], sys.argv[3]
USERS = {"carol": dict(password="carol-password", id=7, orgs=["corp"], teams=[("corp", "backend")]),
         "dan": dict(password="dan-password", id=8, orgs=[], teams=[])}
codes, tokens = {}, {}
lock = threading.Lock()
app = Flask(__name__)


@app.get("/login/oauth/authorize")
def authorize_form():
    if request.args.get("client_id") != CLIENT_ID or request.args.get("redirect_uri") != REDIRECT_URI:
        return "unknown client or redirect_uri", 400
    if request.args.get("code_challenge_method") != "S256" or not request.args.get("code_challenge"):
        return "PKCE required here", 400
    hidden = "".join('<input type="hidden" name="%s" value="%s">' % (html.escape(k), html.escape(v)) for k, v in request.args.items())
    return ('<!DOCTYPE html><html><body><form method="post" action="/login/oauth/authorize">%s'
            '<input id="username" name="username"><input id="password" name="password" type="password">'
            '<button id="login" type="submit">Sign in</button></form></body></html>' % hidden)


@app.post("/login/oauth/authorize")
def authorize():
    user = USERS.get(request.form.get("username", ""))
    if not user or user["password"] != request.form.get("password"):
        return "wrong user name or password", 401
    code = secrets.token_hex(10)
    with lock:
        codes[code] = dict(user=request.form["username"], challenge=request.form["code_challenge"])
    return redirect("%s?code=%s&state=%s" % (REDIRECT_URI, code, request.form.get("state", "")))


@app.post("/login/oauth/access_token")
def access_token():
    if request.form.get("client_id") != CLIENT_ID or request.form.get("client_secret") != CLIENT_SECRET:
        return jsonify(error="incorrect_client_credentials")
    with lock:
        grant = codes.pop(request.form.get("code", ""), None)
    if grant is None or request.form.get("redirect_uri") != REDIRECT_URI:
        return jsonify(error="bad_verification_code")
    if create_s256_code_challenge(request.form.get("code_verifier", "")) != grant["challenge"]:
        return jsonify(error="bad_verification_code")
    token = "gho_" + secrets.token_hex(16)
    with lock:
        tokens[token] = grant["user"]
    return jsonify(access_token=token, token_type="bearer", scope="read:org,read:user")


def current_user():
    auth = request.headers.get("Authorization", "")
    with lock:
        return tokens.get(auth[7:]) if auth.startswith("Bearer ") else None


@app.get("/api/v3/user")
def user():
    name = current_user()
    if not name:
        return jsonify(message="Bad credentials"), 401
    return jsonify(login=name, id=USERS[name]["id"])


@app.get("/api/v3/user/orgs")
def orgs():
    name = current_user()
    if not name:
        return jsonify(message="Bad credentials"), 401
    return jsonify([dict(login=o) for o in USERS[name]["orgs"]])


@app.get("/api/v3/user/teams")
def teams():
    name = current_user()
    if not name:
        return jsonify(message="Bad credentials"), 401
    return jsonify([dict(slug=t, organization=dict(login=o)) for o, t in USERS[name]["teams"]])


if __name__ == "__main__":
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print("listening %d" % server.server_port, flush=True)
    server.serve_forever()
