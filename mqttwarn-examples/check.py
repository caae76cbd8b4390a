#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""
Checks every mqttwarn example scenario against the sample payloads it ships with, the way
mqttwarn itself would process them, without mqttwarn installed (Python 3 standard library only).

For each <scenario>/ directory holding a .ini file:
  - every .py file compiles;
  - each .ini parses as mqttwarn parses it (a RawConfigParser: no % interpolation, option names
    lower-cased), [defaults] and [config:*] values are Python literals (quoted strings), every
    launched service has a [config:<service>] section with a `targets` dict, and every topic
    section's targets name a launched service and one of its targets;
  - functions named as `name()` in filter/alldata/format/title/priority, and [cron] tasks, exist
    in the `functions` file;
  - every sample in payloads/ (topics.txt says which topic each came from) goes through every
    topic section whose subscription matches, like mqttwarn's pipeline: the filter (must return a
    bool; True suppresses), the transformation data (topic, payload, the alldata result, then the
    JSON's top-level keys), then title/format/priority rendered with Python's str.format plus
    mqttwarn's !j conversion. A key missing from the data fails (mqttwarn would quietly send the
    raw payload instead), as does a message that ends up empty (mqttwarn would drop it);
  - [cron] tasks run last with a stand-in `srv` whose MQTT publishes are fed back through the
    matching topic sections.

Usage: python3 mqttwarn-examples/check.py [--show] [SCENARIO_DIR ...]
  --show  print what each section does with each sample (sent text, or suppressed)
Exit status: 0 when every scenario passes, 1 otherwise (each problem on its own line).
"""
import ast
import configparser
import datetime
import importlib.util
import json
import logging
import os
import py_compile
import string
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # loading the scenarios' functions must not leave __pycache__ behind
# [defaults] keys mqttwarn reads as raw comma-separated lists rather than Python literals
RAW_DEFAULTS = {"launch"}
NOT_TOPICS = {"defaults", "cron", "failover"}
SPECIALS = {"TRUE": True, "FALSE": False, "NONE": None}


class Formatter(string.Formatter):
    """mqttwarn.util.Formatter: str.format plus the !j (JSON) conversion."""

    def convert_field(self, value, conversion):
        if conversion == "j":
            return json.dumps(value)
        return super().convert_field(value, conversion)


class FakeMqtt:
    def __init__(self):
        self.published = []

    def publish(self, topic, payload=None, qos=0, retain=False):
        self.published.append((topic, payload if isinstance(payload, str) else (payload or b"").decode("utf-8")))


class FakeSrv:
    """What mqttwarn passes to user-defined functions as `srv`."""

    def __init__(self):
        self.mqttc = FakeMqtt()
        self.logging = logging.getLogger("check")
        self.SCRIPTNAME = "mqttwarn"
        self.mwcore = {}


def literal(value):
    """mqttwarn's Config.g(): True/False/None, else a Python literal; raises when it is not one."""
    if value.strip().upper() in SPECIALS:
        return SPECIALS[value.strip().upper()]
    return ast.literal_eval(value)


def function_name(value):
    """mqttwarn.util.sanitize_function_name: `name()` -> name, anything else -> None."""
    if value is None:
        return None
    value = value.strip()
    if value.endswith("()") and value[:-2].isidentifier():
        return value[:-2]
    return None


def topic_matches(sub, topic):
    """MQTT subscription matching (what paho's topic_matches_sub does)."""
    s, t = sub.split("/"), topic.split("/")
    for i, level in enumerate(s):
        if level == "#":
            return True
        if i >= len(t):
            return False
        if level != "+" and level != t[i]:
            return False
    return len(s) == len(t)


class Scenario:
    def __init__(self, directory):
        self.dir = directory
        self.name = os.path.basename(directory.rstrip("/"))
        self.problems = []
        self.shown = []

    def problem(self, where, text):
        self.problems.append("%s/%s: %s" % (self.name, where, text))

    # ---- static checks --------------------------------------------------------------------

    def run(self, show):
        for py in sorted(f for f in os.listdir(self.dir) if f.endswith(".py")):
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    py_compile.compile(os.path.join(self.dir, py), cfile=os.path.join(tmp, "x.pyc"), doraise=True)
            except py_compile.PyCompileError as e:
                self.problem(py, "does not compile: %s" % e.msg.strip())
        inis = sorted(f for f in os.listdir(self.dir) if f.endswith(".ini"))
        if not inis:
            self.problem(".", "no .ini file")
        samples = self.samples()
        for ini in inis:
            self.check_ini(ini, samples, show)

    def samples(self):
        """[(file, topic, payload)] from payloads/topics.txt."""
        pdir = os.path.join(self.dir, "payloads")
        listing = os.path.join(pdir, "topics.txt")
        if not os.path.isfile(listing):
            self.problem("payloads/topics.txt", "missing (regenerate the samples, see ../README.md)")
            return []
        out = []
        listed = set()
        with open(listing, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                parts = line.split(None, 1)
                if len(parts) != 2:
                    self.problem("payloads/topics.txt:%d" % n, "expected '<file> <topic>'; got %r" % line)
                    continue
                name, topic = parts
                listed.add(name)
                path = os.path.join(pdir, name)
                if not os.path.isfile(path):
                    self.problem("payloads/topics.txt:%d" % n, "names %s, which does not exist" % name)
                    continue
                with open(path, encoding="utf-8") as p:
                    out.append((name, topic, p.read()))
        for name in sorted(os.listdir(pdir)):
            if name != "topics.txt" and name not in listed:
                self.problem("payloads/" + name, "not listed in topics.txt")
        return out

    def check_ini(self, ini, samples, show):
        cp = configparser.RawConfigParser()  # what mqttwarn's Config subclasses, with its defaults
        try:
            with open(os.path.join(self.dir, ini), encoding="utf-8") as f:
                cp.read_file(f)
        except configparser.Error as e:
            self.problem(ini, "does not parse: %s" % e)
            return
        if not cp.has_section("defaults"):
            self.problem(ini, "no [defaults] section")
            return
        defaults = {}
        for key, value in cp.items("defaults"):
            if key in RAW_DEFAULTS:
                defaults[key] = value
                continue
            try:
                defaults[key] = literal(value)
            except (ValueError, SyntaxError):
                self.problem(ini, "[defaults] %s = %s: not a Python literal (quote strings: '%s')" % (key, value, value))
        launch = [s.strip() for s in defaults.get("launch", "").split(",") if s.strip()]
        if not launch:
            self.problem(ini, "[defaults] launch names no service")
        service_targets = {}
        for service in launch:
            section = "config:" + service
            if not cp.has_section(section):
                self.problem(ini, "service %s is launched but has no [%s] section" % (service, section))
                continue
            for key, value in cp.items(section):
                try:
                    parsed = literal(value)
                except (ValueError, SyntaxError):
                    self.problem(ini, "[%s] %s: not a Python literal (quote strings): %s" % (section, key, value))
                    continue
                if key == "targets":
                    if not isinstance(parsed, dict):
                        self.problem(ini, "[%s] targets: expected a dict; got %s" % (section, type(parsed).__name__))
                    else:
                        service_targets[service] = parsed
            if service not in service_targets:
                self.problem(ini, "[%s] has no targets dict" % section)
        module = self.load_functions(ini, defaults.get("functions"))
        topics = [s for s in cp.sections() if s not in NOT_TOPICS and not s.startswith("config:")]
        sections = []
        for section in topics:
            opts = dict(cp.items(section))
            if "targets" not in opts:
                self.problem(ini, "[%s] has no targets: mqttwarn ignores the section" % section)
                continue
            for t in [t.strip() for t in opts["targets"].split(",") if t.strip()]:
                service, _, target = t.partition(":")
                if service not in launch:
                    self.problem(ini, "[%s] target %s: service %s is not launched" % (section, t, service))
                elif target and "{" not in target and target not in service_targets.get(service, {}):
                    self.problem(ini, "[%s] target %s: [config:%s] has no target '%s'" % (section, t, service, target))
            for option in ("filter", "alldata", "format", "title", "priority"):
                name = function_name(opts.get(option))
                if name and (module is None or not callable(getattr(module, name, None))):
                    self.problem(ini, "[%s] %s = %s(): no such function in %s" % (section, option, name, defaults.get("functions")))
            sections.append((section, opts.get("topic", section), opts))
        cron = cp.items("cron") if cp.has_section("cron") else []
        for name, value in cron:
            if module is None or not callable(getattr(module, name, None)):
                self.problem(ini, "[cron] %s: no such function in %s" % (name, defaults.get("functions")))
            try:
                float(value.split(";")[0])
            except ValueError:
                self.problem(ini, "[cron] %s = %s: expected seconds" % (name, value))
        if self.problems:
            return
        srv = FakeSrv()
        used = set()
        for name, topic, payload in samples:
            self.process(ini, module, sections, name, topic, payload, srv, used)
        for task, _ in cron:
            getattr(module, task)(srv)
        for n, (topic, payload) in enumerate(srv.mqttc.published):
            self.process(ini, module, sections, "published by [cron] #%d" % (n + 1), topic, payload, srv, used)
        for section, _, _ in sections:
            if section not in used:
                self.problem(ini, "[%s]: no sample payload reaches it; add one to payloads/" % section)

    def load_functions(self, ini, path):
        if path is None:
            return None
        if not isinstance(path, str):
            self.problem(ini, "[defaults] functions: expected a quoted file name")
            return None
        full = path if os.path.isabs(path) else os.path.join(self.dir, path)
        spec = importlib.util.spec_from_file_location("udf_%s" % self.name.replace("-", "_"), full)
        try:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
        except Exception as e:  # any error in user code is a finding, not a crash
            self.problem(ini, "functions file %s cannot be loaded: %r" % (path, e))
            return None

    # ---- mqttwarn's pipeline, one message ---------------------------------------------------

    def process(self, ini, module, sections, name, topic, payload, srv, used):
        for section, sub, opts in sections:
            if not topic_matches(sub, topic):
                continue
            used.add(section)
            where = "%s [%s] %s" % (ini, section, name)
            filt = function_name(opts.get("filter"))
            if filt:
                try:
                    suppressed = getattr(module, filt)(topic, payload, section, srv)
                except Exception as e:
                    self.problem(where, "filter %s() raised %r" % (filt, e))
                    continue
                if not isinstance(suppressed, bool):
                    self.problem(where, "filter %s() returned %r; expected True or False" % (filt, suppressed))
                    continue
                if suppressed:
                    self.shown.append("%-38s %-26s suppressed by %s()" % (name, "[" + section + "]", filt))
                    continue
            now = datetime.datetime.now()
            data = {
                "topic": topic, "payload": payload, "_dtepoch": int(time.time()),
                "_dtiso": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "_ltiso": now.isoformat(),
                "_dthhmm": now.strftime("%H:%M"), "_dthhmmss": now.strftime("%H:%M:%S"),
            }
            alldata = function_name(opts.get("alldata"))
            if alldata:
                try:
                    extra = getattr(module, alldata)(topic, dict(data), srv)
                except Exception as e:
                    self.problem(where, "alldata %s() raised %r" % (alldata, e))
                    continue
                if extra is not None and not isinstance(extra, dict):
                    self.problem(where, "alldata %s() returned %r; expected a dict or None" % (alldata, extra))
                    continue
                data.update(extra or {})
            try:
                decoded = json.loads(payload.rstrip("\0"))
            except ValueError:
                decoded = None
            if isinstance(decoded, dict):
                data.update(decoded)
            rendered = {}
            for option in ("targets", "title", "format", "priority"):
                value = opts.get(option)
                if value is None:
                    continue
                rendered[option] = self.render(where, module, option, value, data, srv)
            message = rendered.get("format", payload)
            if "format" in opts and rendered.get("format") is None:
                continue  # already reported
            if message is None or len(message) == 0:
                self.problem(where, "the message is empty: mqttwarn would drop it (format = %s)" % opts.get("format"))
                continue
            if "priority" in rendered and rendered["priority"] is not None:
                try:
                    int(rendered["priority"])
                except (TypeError, ValueError):
                    self.problem(where, "priority renders as %r, not a number" % rendered["priority"])
            self.shown.append("%-38s %-26s %s%s%s" % (name, "[" + section + "]",
                              ("title=%r " % rendered["title"]) if rendered.get("title") else "",
                              ("priority=%s " % rendered["priority"]) if "priority" in rendered else "", repr(message)))

    def render(self, where, module, option, value, data, srv):
        name = function_name(value)
        if name and option != "targets":
            try:
                result = getattr(module, name)(dict(data), srv)
            except Exception as e:
                self.problem(where, "%s %s() raised %r" % (option, name, e))
                return None
            if result is not None and not isinstance(result, (str, int)):
                self.problem(where, "%s %s() returned %r; expected a string" % (option, name, result))
            return result
        try:
            return Formatter().format(value, **data).replace("\\n", "\n")
        except KeyError as e:
            self.problem(where, "%s = %s: no key %s in the data (mqttwarn would send the raw payload); keys: %s"
                         % (option, value, e, ", ".join(sorted(data))))
        except (IndexError, ValueError, AttributeError) as e:
            self.problem(where, "%s = %s: %s" % (option, value, e))
        return None


def main(argv):
    show = "--show" in argv
    dirs = [a for a in argv if a != "--show"]
    if not dirs:
        dirs = [os.path.join(HERE, d) for d in sorted(os.listdir(HERE))
                if os.path.isdir(os.path.join(HERE, d)) and any(f.endswith(".ini") for f in os.listdir(os.path.join(HERE, d)))]
    if not dirs:
        print("check.py: no scenario directories with a .ini file under %s" % HERE, file=sys.stderr)
        return 1
    problems = []
    for d in dirs:
        s = Scenario(d)
        s.run(show)
        problems.extend(s.problems)
        if show:
            print("== %s" % s.name)
            for line in s.shown:
                print("  " + line)
    if problems:
        print("mqttwarn examples: %d problem%s" % (len(problems), "" if len(problems) == 1 else "s"), file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print("mqttwarn examples: %d scenario%s ok (%s)" % (len(dirs), "" if len(dirs) == 1 else "s",
                                                       ", ".join(os.path.basename(d.rstrip("/")) for d in dirs)))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main(sys.argv[1:]))
