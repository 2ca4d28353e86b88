"""Check scripts/cluster/k8s/*.yaml without a cluster.

    python3 check_manifests.py K8S_DIR OBJECTS_JSON

Parses every document with PyYAML and checks what a schema cannot: required
fields, selectors matching their pods' labels, the Service's port reaching
the coordinator's --listen port, the agentds' --connect naming that Service,
and every Secret, key file and volume the pods use being there. Writes the
objects to OBJECTS_JSON for the schema validator (validate.mjs). Prints what
it checked; exits 1 with the list of problems.
"""
import glob
import json
import os
import re
import sys

import yaml

k8s_dir, objects_json = sys.argv[1:3]
problems, objects = [], []
for path in sorted(glob.glob(os.path.join(k8s_dir, "*.yaml"))):
    for doc in yaml.safe_load_all(open(path)):
        if doc is None:
            continue
        name = os.path.basename(path)
        for field in ("apiVersion", "kind"):
            if not doc.get(field):
                problems.append(f"{name}: a document without {field}")
        if not (doc.get("metadata") or {}).get("name"):
            problems.append(f"{name}: a {doc.get('kind')} without metadata.name")
        objects.append({"file": name, "object": doc})
json.dump(objects, open(objects_json, "w"))


def find(kind, name):
    for o in objects:
        if o["object"].get("kind") == kind and o["object"]["metadata"].get("name") == name:
            return o["object"]
    problems.append(f"no {kind} {name}")
    return {}


def args_of(deploy):
    c = deploy["spec"]["template"]["spec"]["containers"][0]
    return " ".join(c.get("command", []) + c.get("args", [])), c


deploys = [o["object"] for o in objects if o["object"].get("kind") == "Deployment"]
for d in deploys:
    labels = d["spec"]["template"]["metadata"].get("labels", {})
    for k, v in d["spec"]["selector"].get("matchLabels", {}).items():
        if labels.get(k) != v:
            problems.append(f"Deployment {d['metadata']['name']}: selector {k}={v} not on its pods")
    spec = d["spec"]["template"]["spec"]
    for vol in spec.get("volumes", []):
        if "secret" in vol:
            secret = find("Secret", vol["secret"]["secretName"])
            data = {**secret.get("data", {}), **secret.get("stringData", {})}
            for item in vol["secret"].get("items", []):
                if item["key"] not in data:
                    problems.append(f"{vol['secret']['secretName']} has no key {item['key']}")
        if "persistentVolumeClaim" in vol:
            find("PersistentVolumeClaim", vol["persistentVolumeClaim"]["claimName"])
    for c in spec["containers"]:
        mounts = {m["name"] for m in c.get("volumeMounts", [])}
        for m in mounts - {v["name"] for v in spec.get("volumes", [])}:
            problems.append(f"Deployment {d['metadata']['name']}: mount of a missing volume {m}")

coord = find("Deployment", "troupe-coordinator")
agentd = find("Deployment", "troupe-agentd")
service = find("Service", "troupe-coordinator")
if coord and agentd and service:
    coord_args, coord_c = args_of(coord)
    pod_labels = coord["spec"]["template"]["metadata"]["labels"]
    for k, v in service["spec"]["selector"].items():
        if pod_labels.get(k) != v:
            problems.append(f"Service selector {k}={v} does not select the coordinator's pods")
    listen = re.search(r"--listen tcp://[^:]+:(\d+)", coord_args)
    sport = service["spec"]["ports"][0]
    target = sport["targetPort"]
    cports = {p.get("name"): p["containerPort"] for p in coord_c.get("ports", [])}
    target_port = cports.get(target) if isinstance(target, str) else target
    if not listen or target_port != int(listen.group(1)):
        problems.append(f"Service targetPort {target} ({target_port}) is not the coordinator's "
                        f"--listen port ({listen.group(1) if listen else 'none'})")
    agentd_args, _ = args_of(agentd)
    connect = re.search(r"--connect tcp://([^:]+):(\d+)", agentd_args)
    if not connect or connect.group(1) != service["metadata"]["name"] \
            or int(connect.group(2)) != sport["port"]:
        problems.append(f"agentd --connect {connect.group(0) if connect else 'missing'} does not "
                        f"name the Service {service['metadata']['name']}:{sport['port']}")
    # the key files each program is told to read are in its Secret volume
    for deploy, text in ((coord, coord_args), (agentd, agentd_args)):
        spec = deploy["spec"]["template"]["spec"]
        mount = next((m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "keys"), None)
        vol = next((v for v in spec["volumes"] if v["name"] == "keys"), None)
        if not mount or not vol:
            problems.append(f"{deploy['metadata']['name']}: no keys volume")
            continue
        secret = find("Secret", vol["secret"]["secretName"])
        keys = {**secret.get("data", {}), **secret.get("stringData", {})}
        files = {i["path"] for i in vol["secret"].get("items", [])} or set(keys)
        wanted = []
        if "--keys" in text:
            wanted = ["server.cert_secret", "clients/"]
        for flag in ("--server-key", "--cert"):
            m = re.search(flag + r" (\S+)", text)
            if m:
                rel = os.path.relpath(m.group(1), mount["mountPath"])
                wanted.append(rel)
                if flag == "--cert":
                    wanted.append(rel + "_secret")
        for w in wanted:
            if not any(f == w or (w.endswith("/") and f.startswith(w)) for f in files):
                problems.append(f"{deploy['metadata']['name']}: {w} not in its keys volume")
    print(f"structure: {len(objects)} objects parsed; selectors, Service {service['metadata']['name']}"
          f":{sport['port']} -> coordinator --listen :{target_port}, agentd --connect, secrets, "
          f"key files and volumes checked")
if problems:
    print("\n".join("PROBLEM: " + p for p in problems))
    sys.exit(1)
