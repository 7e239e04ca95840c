"""Host controls judge only what applies (issue 21, items 9 and 10), as pure functions of
facts: an overridden configuration line is not a finding, and a runtime value a boot gives
anyway (kernel default, kernel command line) is not lost on reboot. fs.* and kernel.*
sysctls are the machine's own, so these cases are shown here, never on a sandbox host."""

from __future__ import annotations

from jada_checks.parsers.boot_sysctl import (
    BootFacts,
    before_sysctl_d,
    cmdline_sysctls,
    kernel_default,
    parse_boot_facts,
)
from jada_checks.parsers.limits import entries, shadowed_by
from tests.controls.test_host_controls_pure import GOOD, b64, ctx, dump, evaluate

UNIT = "/etc/systemd/system/jada-agent.service"
DROP = "/etc/systemd/system/jada-agent.service.d"


def nofile_lines(*lines: str) -> str:
    return GOOD["hc_nofile_lines"] + "".join(line + "\n" for line in lines)


# -- item 9: overridden lines -------------------------------------------------------------

def test_fd03_a_unit_line_a_later_drop_in_overrides_is_not_judged() -> None:
    lines = nofile_lines(f"FILE unit {DROP}/50-old.conf",
                         f"LINE unit {DROP}/50-old.conf 3:LimitNOFILE=16384:2000000",
                         f"FILE unit {DROP}/80-fix.conf",
                         f"LINE unit {DROP}/80-fix.conf 3:LimitNOFILE=16384")
    out = evaluate("JADA-FD-03", ctx({"hc_nofile_lines": lines}))
    assert out.status == "pass", out
    assert "overridden, so not judged: " in out.message
    assert (f"LimitNOFILE=16384:2000000 at {DROP}/50-old.conf:3 (replaced by "
            f"{DROP}/80-fix.conf:3)") in out.message
    # the same line last: it applies, and fails
    last = nofile_lines(f"LINE unit {DROP}/80-fix.conf 3:LimitNOFILE=16384",
                        f"LINE unit {DROP}/90-new.conf 3:LimitNOFILE=16384:2000000")
    out = evaluate("JADA-FD-03", ctx({"hc_nofile_lines": last}))
    assert out.status == "fail", out
    assert f"{DROP}/90-new.conf:3: 2000000 is above fs.nr_open 1048576" in out.message


def test_fd03_a_manager_line_a_system_conf_d_drop_in_overrides_is_not_judged() -> None:
    lines = nofile_lines("FILE manager /etc/systemd/system.conf",
                         "LINE manager /etc/systemd/system.conf 60:DefaultLimitNOFILE=1024:2000000",
                         "FILE manager /etc/systemd/system.conf.d/90-nofile.conf",
                         "LINE manager /etc/systemd/system.conf.d/90-nofile.conf "
                         "2:DefaultLimitNOFILE=1024:524288")
    out = evaluate("JADA-FD-03", ctx({"hc_nofile_lines": lines}))
    assert out.status == "pass", out
    assert ("DefaultLimitNOFILE=1024:2000000 at /etc/systemd/system.conf:60 (replaced by "
            "/etc/systemd/system.conf.d/90-nofile.conf:2)") in out.message


def test_fd03_an_invalid_later_line_overrides_nothing() -> None:
    """systemd ignores an unparseable LimitNOFILE= (config_parse_rlimit): the earlier
    line still applies."""
    lines = nofile_lines(f"LINE unit {DROP}/50-old.conf 3:LimitNOFILE=16384:2000000",
                         f"LINE unit {DROP}/80-bad.conf 3:LimitNOFILE=lots")
    out = evaluate("JADA-FD-03", ctx({"hc_nofile_lines": lines}))
    assert out.status == "fail" and f"{DROP}/50-old.conf:3: 2000000" in out.message, out


def limits(*files: tuple[str, str]) -> str:
    return GOOD["hc_limits_files"] + "".join(dump(p, t) for p, t in files)


def test_lim02_an_entry_a_later_entry_of_the_same_domain_replaces_is_not_judged() -> None:
    facts = limits(("/etc/security/limits.d/50-old.conf", "# old\n@ops - nofile 2000000\n"),
                   ("/etc/security/limits.d/70-fix.conf", "@ops - nofile 65536\n"))
    out = evaluate("JADA-LIM-02", ctx({"hc_limits_files": facts}))
    assert out.status == "pass", out
    assert ("not applied, so not judged: /etc/security/limits.d/50-old.conf:2 '@ops - nofile "
            "2000000' (replaced by /etc/security/limits.d/70-fix.conf:1 '@ops - nofile 65536')"
            ) in out.message


def test_lim02_a_later_entry_replaces_only_the_sides_it_sets_for_the_same_users() -> None:
    # only the soft side is replaced: the hard 2000000 still applies
    soft = limits(("/etc/security/limits.d/50-old.conf", "@ops - nofile 2000000\n"),
                  ("/etc/security/limits.d/70-fix.conf", "@ops soft nofile 65536\n"))
    out = evaluate("JADA-LIM-02", ctx({"hc_limits_files": soft}))
    assert out.status == "fail" and "50-old.conf:1" in out.message, out
    # '*' does not replace an @group entry for the group's members (lower priority)
    star = limits(("/etc/security/limits.d/50-old.conf", "@ops - nofile 2000000\n"),
                  ("/etc/security/limits.d/70-fix.conf", "* - nofile 65536\n"))
    assert evaluate("JADA-LIM-02", ctx({"hc_limits_files": star})).status == "fail"
    # a later value pam_limits rejects replaces nothing
    bad = limits(("/etc/security/limits.d/50-old.conf", "@ops - nofile 2000000\n"),
                 ("/etc/security/limits.d/70-fix.conf", "@ops - nofile lots\n"))
    assert evaluate("JADA-LIM-02", ctx({"hc_limits_files": bad})).status == "fail"
    # soft and hard replaced by two later lines
    both = limits(("/etc/security/limits.conf", "@ops - nofile 2000000\n"),
                  ("/etc/security/limits.d/70-a.conf", "@ops hard nofile 65536\n"),
                  ("/etc/security/limits.d/71-b.conf", "@ops soft nofile 4096\n"))
    files = {"/etc/security/limits.conf": b"@ops - nofile 2000000\n",
             "/etc/security/limits.d/70-a.conf": b"@ops hard nofile 65536\n",
             "/etc/security/limits.d/71-b.conf": b"@ops soft nofile 4096\n"}
    every = entries(files)
    assert [e.where for e in shadowed_by(every, every[0])] == [
        "/etc/security/limits.d/70-a.conf:1", "/etc/security/limits.d/71-b.conf:1"]
    del both


# -- item 10: what a boot gives ------------------------------------------------------------

ONLY_SYN = (f"D {b64('/etc/sysctl.d')}\n"
            + dump("/etc/sysctl.d/60-jada.conf", "net.ipv4.tcp_max_syn_backlog = 8192\n")
            + f"D {b64('/usr/lib/sysctl.d')}\n")
NOTHING = f"D {b64('/etc/sysctl.d')}\nD {b64('/usr/lib/sysctl.d')}\n"


def runtime(somaxconn: int = 8192, syn: int = 8192, nr_open: int = 1048576) -> str:
    return (GOOD["hc_sysctl_runtime"]
            .replace("somaxconn 8192", f"somaxconn {somaxconn}")
            .replace("tcp_max_syn_backlog 8192", f"tcp_max_syn_backlog {syn}")
            .replace("fs/nr_open 1048576", f"fs/nr_open {nr_open}"))


def boot(release: str = "6.1.0-28-amd64", cmdline: str = "", container: str = "none",
         ehash: str = "262144") -> str:
    return f"release {release}\ncmdline {cmdline}\ncontainer {container}\nehash {ehash}\n"


def test_net02_the_kernel_default_is_what_a_boot_gives() -> None:
    out = evaluate("JADA-NET-02", ctx({"hc_sysctl_files": ONLY_SYN,
                                      "hc_sysctl_runtime": runtime(somaxconn=4096)}))
    assert out.status == "pass", out
    assert ("net.core.somaxconn: runtime 4096, boot 4096 (not in sysctl.d: kernel default "
            "SOMAXCONN since Linux 5.4") in out.message
    out = evaluate("JADA-NET-02", ctx({"hc_sysctl_files": ONLY_SYN,
                                      "hc_sysctl_runtime": runtime(somaxconn=16384)}))
    assert out.status == "fail", out
    assert ("net.core.somaxconn is 16384 at runtime but not set in any sysctl.d file: lost on "
            "reboot, which gives 4096 (kernel default SOMAXCONN since Linux 5.4") in out.message
    # before 5.4 the default was 128
    out = evaluate("JADA-NET-02", ctx({"hc_sysctl_files": ONLY_SYN,
                                      "hc_sysctl_runtime": runtime(somaxconn=4096),
                                      "hc_boot_facts": boot(release="4.19.0-26-amd64")}))
    assert out.status == "fail" and "which gives 128 (kernel default SOMAXCONN before" \
        in out.message, out


def test_net02_syn_backlog_default_follows_the_tcp_hash_size() -> None:
    facts = {"hc_sysctl_files": NOTHING,
             "hc_sysctl_runtime": runtime(somaxconn=4096, syn=2048),
             "hc_boot_facts": boot(ehash="-262144")}  # a namespace sharing the init table
    out = evaluate("JADA-NET-02", ctx(facts))
    assert out.status == "pass", out
    assert "kernel default max(128, 262144 TCP ehash buckets / 128)" in out.message
    out = evaluate("JADA-NET-02", ctx(dict(facts, hc_boot_facts=boot(ehash=""))))
    assert out.status == "error", out
    assert "tcp_ehash_entries (Linux 6.1+) unreadable" in out.message


def test_net02_a_kernel_command_line_sysctl_is_what_a_boot_gives() -> None:
    facts = {"hc_sysctl_files": ONLY_SYN, "hc_sysctl_runtime": runtime(somaxconn=16384),
             "hc_boot_facts": boot(cmdline="sysctl.net.core.somaxconn=16384 ")}
    out = evaluate("JADA-NET-02", ctx(facts))
    assert out.status == "pass", out
    assert ("boot 16384 (not in sysctl.d: kernel command line sysctl.net.core.somaxconn=16384 "
            "(/proc/cmdline; Linux 5.8+ applies it before init))") in out.message
    # in a container the command line is the machine's: it never reaches this netns
    out = evaluate("JADA-NET-02", ctx(dict(facts, hc_boot_facts=boot(
        cmdline="sysctl.net.core.somaxconn=16384 ", container="systemd-nspawn"))))
    assert out.status == "fail", out
    # before 5.8 the kernel did not read sysctl.* options
    out = evaluate("JADA-NET-02", ctx(dict(facts, hc_boot_facts=boot(
        release="5.4.0-1-amd64", cmdline="sysctl.net.core.somaxconn=16384 "))))
    assert out.status == "fail", out


def test_fd03_lim02_a_kernel_command_line_fs_nr_open_is_the_boot_value() -> None:
    lines = nofile_lines(f"LINE unit {DROP}/70-x.conf 4:LimitNOFILE=16384:1500000")
    base = {"hc_nofile_lines": lines, "hc_sysctl_runtime": runtime(nr_open=2097152)}
    out = evaluate("JADA-FD-03", ctx(base))
    assert out.status == "fail" and "1048576 (kernel default, fs/file.c: no sysctl.d" \
        in out.message, out
    out = evaluate("JADA-FD-03", ctx(dict(base, hc_boot_facts=boot(
        cmdline="sysctl.fs.nr_open=2097152 "))))
    assert out.status == "pass", out
    assert ("2097152 (kernel command line sysctl.fs.nr_open=2097152 (/proc/cmdline, applied "
            "before init since Linux 5.8): no sysctl.d file sets fs.nr_open)") in out.message
    facts = {"hc_limits_files": limits(("/etc/security/limits.d/70-x.conf",
                                        "root hard nofile 1500000\n")),
             "hc_sysctl_runtime": runtime(nr_open=2097152),
             "hc_boot_facts": boot(cmdline="sysctl/fs/nr_open=2097152 ")}
    assert evaluate("JADA-LIM-02", ctx(facts)).status == "pass"


def test_boot_sysctl_parsers() -> None:
    assert cmdline_sysctls('quiet sysctl.net.core.somaxconn=1 sysctl.net/core/somaxconn=2 '
                           '-- sysctl.fs.nr_open=3') == {"net/core/somaxconn": "2"}
    facts = parse_boot_facts(boot(ehash="-1024"))
    assert facts.ehash_entries == 1024 and facts.kernel() == (6, 1)
    assert kernel_default("net.ipv4.tcp_max_syn_backlog", facts).value == 128
    assert kernel_default("kernel.pid_max", facts).value is None
    assert before_sysctl_d("fs.nr_open", BootFacts(release="6.1")).value == 1048576
    assert parse_boot_facts("garbage\n").kernel() is None


# -- item 12: the user the processes really run as ----------------------------------------

NO_USER = GOOD["unit_show"].replace("User=jada\n", "User=\n")


def test_unit03_a_privilege_drop_in_exec_start_is_not_root() -> None:
    out = evaluate("JADA-UNIT-03", ctx({"unit_show": NO_USER}))
    assert out.status == "pass", out
    assert ("runs as jada (uid 990): no User= in the unit, so systemd starts it as root, but "
            "ExecStart= drops privileges; MainPID 35 and 1 other process(es)") in out.message
    root = {"unit_show": NO_USER, "hc_main_status": "Uid:\t0\t0\t0\t0\n",
            "hc_unit_uids": "U 35 0 0 root python3\n"}
    out = evaluate("JADA-UNIT-03", ctx(root))
    assert out.status == "fail", out
    assert ("no User= in the unit and no privilege drop in ExecStart=: MainPID 35 runs with "
            "uid 0/euid 0 (root)") in out.message


def test_unit03_a_root_process_of_the_unit_fails_even_with_user() -> None:
    kids = GOOD["hc_unit_uids"] + "U 41 0 0 root sudo\n"
    out = evaluate("JADA-UNIT-03", ctx({"hc_unit_uids": kids}))
    assert out.status == "fail", out
    assert "processes of the unit run as root: pid 41 (sudo) uid 0/euid 0" in out.message
    bad = evaluate("JADA-UNIT-03", ctx({"hc_unit_uids": "U x 0 0 root a\n"}))
    assert bad.status == "error" and "'U <pid> <uid> <euid> <name> <comm>'" in bad.message


# -- item 11: the route by which systemd starts the unit at boot ---------------------------

def _b(text: str) -> str:
    return b64(text)


def route(*lines: str, default: str = "graphical.target", pulled: str = "multi-user.target"
          ) -> str:
    return f"default {default}\nP {pulled}\n" + "".join(line + "\n" for line in lines)


TREE = ("T jada-agent.service", "T * `-multi-user.target", "T *   `-graphical.target")


def unit01(boot_route: str, state: str = "enabled") -> str:
    from jada_checks.controls import unit as _unit  # noqa: F401  (registers UNIT-01)
    show = GOOD["unit_show"] + f"ActiveState=active\nSubState=running\nUnitFileState={state}\n"
    out = evaluate("JADA-UNIT-01", ctx({"unit_show": show, "hc_boot_route": boot_route}))
    return f"{out.status}: {out.message}"


def test_unit01_a_static_unit_wanted_from_usr_lib_starts_at_boot() -> None:
    link = "/usr/lib/systemd/system/multi-user.target.wants/jada-agent.service"
    got = unit01(route(*TREE, f"L {_b('multi-user.target')} {_b(link)}"), state="static")
    assert got.startswith("pass: "), got
    assert (f"starts at boot: graphical.target (default target) -> ... -> multi-user.target "
            f"pulls it in ({link}) (UnitFileState=static)") in got


def test_unit01_an_alias_only_enable_starts_nothing() -> None:
    got = unit01(route("T jada-agent.service", f"A {_b('/etc/systemd/system/jada.service')}",
                       pulled=""))
    assert got.startswith("fail: "), got
    assert ("would not start at boot: nothing pulls it in from the default target "
            "graphical.target (UnitFileState=enabled); 'enabled' comes only from the alias "
            "link(s) /etc/systemd/system/jada.service, and an Alias= name starts nothing") in got


def test_unit01_a_runtime_only_wants_link_is_gone_after_reboot() -> None:
    link = "/run/systemd/system/multi-user.target.wants/jada-agent.service"
    got = unit01(route(*TREE, f"L {_b('multi-user.target')} {_b(link)}"))
    assert got.startswith("fail: "), got
    assert f"only until the next boot: multi-user.target via {link}" in got


def test_unit01_a_target_wants_line_and_a_target_outside_the_boot_count_right() -> None:
    line = "/etc/systemd/system/jada.target:3:Wants=jada-agent.service"
    tree = ("T jada-agent.service", "T \u25cf \u2514\u2500jada.target",
            "T \u25cf   \u2514\u2500multi-user.target", "T \u25cf     \u2514\u2500graphical.target")
    got = unit01(route(*tree, f"W {_b('jada.target')} {_b(line)}", pulled="jada.target"))
    assert got.startswith("pass: ") and f"jada.target pulls it in ({line})" in got, got
    alone = unit01(route("T jada-agent.service", "T * `-rescue.target", pulled="rescue.target"))
    assert alone.startswith("fail: ") and "pulled in only by rescue.target, which the " \
        "default target does not start" in alone, alone
    partof = unit01(route(*TREE, pulled=""))  # listed by --reverse through PartOf= only
    assert partof.startswith("fail: "), partof


# -- item 13: who else can create or replace a settings file -------------------------------

def _file(path: str, exists: bool, owner: str | None, chain: list[tuple[str, str | None, int]]):
    from jada_checks.parsers.cfg_facts import DirFact, FileFact
    from jada_checks.parsers.settings import missing
    return FileFact("project", path, "ok" if exists else "missing", 1, owner,
                    0o644 if exists else None, path, None, None, True, missing(path),
                    [DirFact(p, o, 0, m, o is not None) for p, o, m in chain])


def test_cfg05_path_rules() -> None:
    from jada_checks.parsers.path_safety import path_problems
    ok = {"root", "jada"}
    up = [("/", "root", 0o755)]
    creatable = _file("/srv/jada/.claude/settings.json", False, None,
                      [("/srv/jada/.claude", None, 0), ("/srv/jada", "root", 0o1777),
                       ("/srv", "root", 0o755), *up])
    assert path_problems(creatable, ok)[0] == [
        "/srv/jada/.claude/settings.json can be created by someone else: /srv/jada/.claude "
        "does not exist and /srv/jada/ is writable by group/others (mode 1777) (the sticky "
        "bit does not stop creating)"]
    sticky = _file("/srv/jada/.claude/settings.json", True, "jada",
                   [("/srv/jada/.claude", "jada", 0o755), ("/srv/jada", "root", 0o755),
                    ("/srv", "root", 0o1777), *up])
    assert path_problems(sticky, ok) == ([], [])
    theirs = _file("/srv/jada/.claude/settings.json", True, "jada",
                   [("/srv/jada/.claude", "jada", 0o755), ("/srv/jada", "mallory", 0o755),
                    ("/srv", "root", 0o1777), *up])
    problems = path_problems(theirs, ok)[0]
    assert any("/srv/ is writable by group/others (mode 1777) and /srv/jada is owned by "
               "'mallory'" in p for p in problems), problems
    assert any("/srv/jada/ is writable by its owner 'mallory' without the sticky bit"
               in p for p in problems), problems
    plain = _file("/srv/jada/.claude/settings.json", True, "jada",
                  [("/srv/jada/.claude", "jada", 0o755), ("/srv/jada", "root", 0o755),
                   ("/srv", "root", 0o777), *up])
    assert path_problems(plain, ok)[0] == [
        "/srv/jada/.claude/settings.json can be replaced by someone else: /srv/ is writable "
        "by group/others (mode 777) without the sticky bit, so they can rename /srv/jada away "
        "and put their own in its place"]
    unknown = _file("/x/s.json", True, "root", [("/x", None, 0), *up])
    unknown.chain[0] = type(unknown.chain[0])("/x", None, None, None, True)
    assert path_problems(unknown, ok)[1] == ["/x: could not stat it"]


def test_the_service_user_is_the_one_the_prelude_resolved() -> None:
    """Without User= the prelude names the main process's real user (svc_user); an answer
    without that section falls back to User= (root when empty)."""
    from jada_checks.controls.cfg import service_user
    drop = {"unit_show": NO_USER,
            "svc_user": "user jada\nfrom MainPID 35 uid 990\nhome /home/jada\n"}
    assert service_user(ctx(drop)) == "jada"
    assert service_user(ctx({"unit_show": NO_USER})) == "root"
    assert service_user(ctx({"unit_show": NO_USER, "svc_user": "user \nfrom User=\n"})) == "root"


def test_the_prelude_derives_the_user_from_the_main_process_only_without_user() -> None:
    from jada_checks.facts.probes import PRELUDE
    assert 'mapfile -t jada_st 2>/dev/null < "/proc/$MAINPID/status"' in PRELUDE
    assert 'if [[ $l == Uid:* ]]; then l=(${l#Uid:}); svc_uid=${l[0]}' in PRELUDE
    assert '[ -z "$SVC_USER" ]' in PRELUDE and "DynamicUser" in PRELUDE


def test_started_by_hand_names_units_and_rejects_anything_else(tmp_path) -> None:
    """A host's ``started-by-hand`` units are started after boot, so nothing starts them at
    the next boot (drifted, unit-01-alias-only); a bad name names file and line."""
    import pytest

    from jada_checks.sandbox.hostdir import HostDirError, load_hostdir
    parent, child = tmp_path / "p", tmp_path / "c"
    parent.mkdir()
    child.mkdir()
    (parent / "started-by-hand").write_text("# by hand\njada-agent.service\n")
    (child / "inherits").write_text("../p\n")
    (child / "started-by-hand").write_text("jada-agent.service\nother.service # too\n")
    assert load_hostdir("c", child).started_by_hand() == ["jada-agent.service", "other.service"]
    (child / "started-by-hand").write_text("x.service; rm -rf /\n")
    with pytest.raises(HostDirError, match=r"started-by-hand:1: 'x.service; rm -rf /' is not"):
        load_hostdir("c", child).started_by_hand()
