"""A GitLab-API-shaped server on loopback for Warren's token tests (Flask): the three
calls Warren makes to learn whose a token is.

    python3 gitlab_api.py JOB_TOKEN PERSONAL_TOKEN
prints "listening PORT", then "GET PATH" for every request (so tests can count them).
The job runs in project corp/backend/api for user ci-bot; the personal token is erin's,
a member of corp and corp/backend.
"""
import sys

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

JOB_TOKEN, PERSONAL_TOKEN = sys.argv[1], sys.argv[2]
app = Flask(__name__)
base = ""


@app.before_request
def log():
    print("GET " + request.path, flush=True)


@app.get("/api/v4/job")
def job():
    if request.headers.get("JOB-TOKEN") != JOB_TOKEN:
        return jsonify(message="401 Unauthorized"), 401
    return jsonify(id=123, status="running", user=dict(username="ci-bot"), web_url=base + "/corp/backend/api/-/jobs/123")


@app.get("/api/v4/user")
def user():
    if request.headers.get("PRIVATE-TOKEN") != PERSONAL_TOKEN:
        return jsonify(message="401 Unauthorized"), 401
    return jsonify(id=9, username="erin")


@app.get("/api/v4/groups")
def groups():
    if request.headers.get("PRIVATE-TOKEN") != PERSONAL_TOKEN:
        return jsonify(message="401 Unauthorized"), 401
    return jsonify([dict(full_path="corp"), dict(full_path="corp/backend")])


if __name__ == "__main__":
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = "http://127.0.0.1:%d" % server.server_port
    print("listening %d" % server.server_port, flush=True)
    server.serve_forever()
