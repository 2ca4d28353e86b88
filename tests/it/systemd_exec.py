"""Run a unit's ExecStart= the way systemd would, where systemd is not PID 1.

    python3 systemd_exec.py UNIT INSTANCE ROOT ENV_FILE BIN_DIR USER GROUP

Expands %i and %S (ROOT/var/lib), $VAR and ${VAR} from ENV_FILE as
systemd.service(5) says, maps /usr/local/bin/ to BIN_DIR and /etc/troupe/ to
ROOT/etc/troupe/, creates the unit's StateDirectory= entries owned by USER,
then execs the command as USER:GROUP (setpriv) with ENV_FILE in its
environment. A test of the unit's command line and of the files it needs,
not of systemd itself.
"""
import os
import pwd
import re
import shlex
import sys

unit, instance, root, env_file, bin_dir, user, group = sys.argv[1:8]
state = os.path.join(root, "var/lib")
env = {}
for line in open(env_file):
    line = line.strip()
    if line and not line.startswith("#"):
        key, _, value = line.partition("=")
        env[key.strip()] = value.strip()

settings = {}
for line in open(unit):
    key, sep, value = line.strip().partition("=")
    if sep and not key.startswith("#"):
        settings.setdefault(key, []).append(value)


def specifiers(text):
    return (text.replace("%i", instance).replace("%S", state)
            .replace("/usr/local/bin/", bin_dir + "/")
            .replace("/etc/troupe/", os.path.join(root, "etc/troupe") + "/"))


argv = []
for word in shlex.split(specifiers(settings["ExecStart"][0])):
    if re.fullmatch(r"\$[A-Za-z_][A-Za-z0-9_]*", word):
        argv += env.get(word[1:], "").split()
    else:
        argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                           lambda m: env.get(m.group(1), ""), word))

uid = pwd.getpwnam(user).pw_uid
for entry in settings.get("StateDirectory", []):
    for name in entry.split():
        path = os.path.join(state, specifiers(name))
        os.makedirs(path, exist_ok=True)
        os.chown(path, uid, -1)
        os.chmod(path, int(settings.get("StateDirectoryMode", ["0755"])[0], 8))

os.environ.update(env)
os.execvp("setpriv", ["setpriv", "--reuid=" + user, "--regid=" + group,
                      "--clear-groups", "--"] + argv)
