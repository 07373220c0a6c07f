"""Seeded generator of synthetic EPMT job archives of any size, for scale tests and benchmarks.

The jobs imitate the GFDL post-processing jobs of the sample data: one host, one top ``tcsh``
whose children are a few untagged setup commands, then tagged operations (``op:hsmget``,
``op:cp``, ...) whose subtrees inherit their tag; depth up to 7; a few multi-threaded
processes (extra rows with the same pid and other tids); transfer daemons detached to
``ppid 1`` (extra roots); pids from a wrapping pid space (32768) shared with the node's other
activity, so that big jobs reuse pids. Every child lies within its parent's lifetime and every
process within the job's window. Rows are written in end order, like papiex, and streamed:
memory stays small whatever the size. The same seed gives the same bytes.

Examples
--------
>>> import io
>>> buf = io.StringIO()
>>> job = generate_job(500, buf, seed=3)
>>> job.n_procs, buf.getvalue().count("\\n") == job.n_rows + 1
(500, True)
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import io
import pickle
import random
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from os import PathLike
from pathlib import Path
from typing import Any, NamedTuple, TextIO
from zoneinfo import ZoneInfo

from epmt_graph.errors import ConfigError

__all__ = ["HEADER", "SyntheticJob", "generate_job", "main", "write_archive"]

#: The header of a collated papiex CSV (format v1), as in the real archives.
HEADER = (
    "tags,hostname,exename,path,args,exitcode,pid,generation,ppid,pgid,sid,numtids,tid,start,"
    "end,usertime,systemtime,rssmax,minflt,majflt,inblock,outblock,vol_ctxsw,invol_ctxsw,"
    "num_threads,starttime,processor,delayacct_blkio_time,guest_time,rchar,wchar,syscr,syscw,"
    "read_bytes,write_bytes,cancelled_write_bytes,time_oncpu,time_waiting,timeslices,"
    "rdtsc_duration,PERF_COUNT_SW_CPU_CLOCK"
)
_PID_MAX, _PID_MIN = 32768, 300  # Linux pid_max; pids wrap to just above RESERVED_PIDS
_BG_PIDS_PER_US = 5e-6  # pids taken by the node's other activity: about 5 a second
_MAX_CHAIN = 30000  # a chain is alive all at once: it must fit in the pid space
_FOREVER = 1 << 62
_TZ = ZoneInfo("US/Eastern")
_USER, _UID, _GID = "Synthetic.User", 4242, 70
# "dir: name median-duration(us) median-usertime(us), ...": the executables and their costs.
_FRE = "/home/fms/local/opt/fre-nctools/bronx-14/gfdl/bin/"
_EXE_TABLE = f"""
/bin/: tcsh 200 2000, bash 3000 4000, grep 2000 2500, cut 200 3500, df 300 3500, mv 150 3000
/bin/: readlink 5000 3500, mkdir 150 4000, ln 150 3000, arch 100 3000, cp 2000 3000
/bin/: chmod 2000 2000, touch 2500 5000, ls 1000 3000, sort 40000 3000, sed 2000 3000
/bin/: tar 150000 8000, date 100 3500, basename 100 2000, rm 100 2500
/bin/: find 50000 8000, sleep 1000200 3000, logger 600 4000
/usr/bin/: make 100000 7000, uuidgen 100 3500, tail 5000 3500, head 20000 3500, tr 100 2000
/usr/bin/: host 6000 14000, grid-proxy-info 3000 14000, dmget 20000000 9000, time 5000 3000
/usr/bin/: dmput 600000 16000, which 150 3000, uptime 150 4000, globus-url-copy 3000000 1500000
/usr/bin/: getopt 100 3500, test 50 3000, id 500 3000, du 500 5000
/home/fms/local/perlbrew/perls/perl-5.24.0/bin/: perl 20000 20000
/app/gcp/2.3.19/: uberftp 2000 15000
/app/netcdf-4.2_optimized/bin/: ncdump 500 15000
/app/nco/4.5.4/bin/: ncra 1000000 500000, ncatted 600 15000
{_FRE}: fregrid 1100000 1000000, TAVG.exe 3000000 2500000, list_ncvars.exe 500 20000
/app/Modules/3.2.10/bin/: modulecmd 5000 7000
"""
_THREADS = {"host": 4, "uberftp": 4, "dmget": 2, "dmput": 2}
_FAIL = {"grep": 0.3, "which": 0.3, "test": 0.2, "ls": 0.1}  # chance of exit code 1
_SIGMA = {"sleep": 1e-4, "dmget": 1.0, "mv": 1.5, "chmod": 1.5, "ls": 1.0, "cut": 1.0}


class _Exe(NamedTuple):
    path: str
    dur: int  # median duration (us); log-normal with log-sigma ``sigma``
    sigma: float
    cpu: int  # median usertime (us)
    rss: int
    threads: int
    fail: float
    starttime: int  # papiex's "starttime" column: a per-executable constant in the samples


def _exes() -> dict[str, _Exe]:
    out: dict[str, _Exe] = {}
    for line in _EXE_TABLE.strip().split("\n"):
        folder, _, items = line.partition(": ")
        for item in items.split(", "):
            name, dur, cpu = item.split()
            sig, st = _SIGMA.get(name, 0.5), 1_150_000_000_000 + 40_960_000 * len(out)
            rss, thr, fail = (
                2900 + int(int(cpu) ** 0.5) * 15,
                _THREADS.get(name, 1),
                _FAIL.get(name, 0),
            )
            out[name] = _Exe(folder + name, int(dur), sig, int(cpu), rss, thr, fail, st)
    return out


_EXES = _exes()

# Templates: a line per process, or several siblings joined by " ; "; two spaces of indent a
# level; "[*lo-hi ][|][&]exe args". "*lo-hi" repeats the subtree; "|" starts it with its
# previous sibling (a pipeline); "&" detaches it to ppid 1 (a root); "$cmd" is "tcsh -f -c cmd"
# whose first child is the same (the subshell); "@name" splices a fragment. The "{x}" are
# filled per operation (see _Gen.op).
_FRAGMENTS = {
    "gcp": """
uuidgen ; *1-2 which grid-proxy-info ; uptime ; grid-proxy-info -exists ; arch
*1-3 which globus-url-copy ; uberftp -v
bash -c globus-url-copy -rst -bs 6M -tcp-bs 6M -p 1 -fast -pp -g2 -dcsafe -cc 4 -df {pt}
  globus-url-copy -rst -bs 6M -tcp-bs 6M -p 1 -fast -pp -g2 -dcsafe -cc 4 -df {pt} {w}/{f}
sleep 1
""",
    "dmget": """
perl -w /home/gfdl/bin2/dmget {ar}
  mv -f /tmp/dmget_{hst}_{j}.{y} /home/gfdl/dmcmds/requests ; dmget -a {ar}
""",
}
_OPS = {
    "pre": """
mkdir -p {w}/work
*2-4 modulecmd tcsh load fre/bronx-15
  *1-3 perl -T -e use Net::Domain(hostdomain); print hostdomain
  perl -e use English; printf "%vd", $PERL_VERSION ; logger {u} globus loaded
*2-4 test 0 = 0
$/home/{u}/bin/verify -m ESM4/v1.0.2 -x dev
  getopt m:x: -m ESM4/v1.0.2 -x dev
""",
    "hsmget": """
perl {hsm}/bin/hsmget -v -t -a {ar} -p {pt} -w {w} {f}
  bash -c make -pn -f {hsm}/mk/hsmget.mk 2>&1 | grep -c ^SSH.*gsissh
    grep -c ^SSH.*gsissh ; |make -pn -f {hsm}/mk/hsmget.mk
      $uuidgen
        uuidgen
      $df -PT / | tail -n 1 | cut -d' ' -f2
        |cut -d  -f2 ; |tail -n 1 ; |df -PT /
  bash -c grid-proxy-info -e > /dev/null 2>&1
    grid-proxy-info -e
  readlink -f -n {ar}
  @dmget
  *1-2 make ARCHROOT={ar} PTMPROOT=/ptmp/{u} WORKROOT={w} {f}
    $uuidgen
      uuidgen
    $host {lb} | head -n 1 | cut -d' ' -f4
      |cut -d  -f4 ; |head -n 1 ; |host {lb}
    $mkdir -p {w} && ( ln -f {pt} {w}/{f} || gcp {pt} {w}/{f} )
      mkdir -p {w}
      time -f gcp took %e secs. gcp --verbose {pt} {w}/{f}
        ln -f {pt} {w}/{f}
        perl /usr/local/gcp/2.3.19/gcp --verbose {pt} {w}/{f}
          @gcp
          &uberftp pnfs{h}.princeton.rdhpcs.noaa.gov
      chmod a-w {pt}
    $touch -m -r {pt} {w}/{f}
      touch -m -r {pt} {w}/{f}
ls {pt}
head -n 1
  |sort -r ; |cut -d = -f2 ; |grep _DeflateLevel ; |sed s/;// ; |ncdump -sh {pt}
""",
    "ncrcat": "ncra -h -O -t 2 --header_pad 16384 {f} annual.nc\n  mv -f annual.nc.tmp annual.nc",
    "rm": """
rm -f {f} ; date +%Y%m%d ; ls -1 {w}
find {w} -name *.tmp -mtime +2
  *20-34 rm -f {w}/{f}.tmp
ln -sf {w}/{f} .
""",
    "timavg": """
${fre}timavg.csh -mb -o {c}.{y}.ann.nc annual.nc
  getopt abdmWo:v:w:r:z:s: -mb -o {c}.{y}.ann.nc annual.nc ; date +%j%H%M%S%N
  TAVG.exe ; rm -f nml{j}{y}
@dmget
""",
    "untar": """
tar -xvf {ar} ; ls -l ocean_mosaic.nc
*2 sed s/.*=//;s/;//;s/ //g
  grep nx = ; |ncdump -h ocean_hgrid.nc
""",
    "cp": """
perl /usr/local/gcp/2.3.19/gcp -v {ar} {w}/{f}
  @gcp
tcsh -f {fre}list_ncvars.csh -st0123 annual.nc
  tcsh -f {fre}list_ncvars.csh -st0123 annual.nc ; getopt st01234 -st0123 annual.nc
  date +%j%H%M%S ; list_ncvars.exe
sed s/ /,/g
  tcsh -f {s}
*40-90 sed -e s/,/ /g
  tcsh -f {s}
sort -u
  sed s/\\w*://g ; |tr   \\n ; |cut -d " -f2 ; |grep :associated_files ; |ncdump -h annual.nc
cut -c 1-4
  tcsh -f {s}
basename {w}/{f} ; cp -p {w}/{f} /vftmp/{u}/job{j}/tempCache/
""",
    "fregrid": """
fregrid --standard_dimension --input_mosaic ocean_mosaic.nc --input_file annual --nlon 360
mv out.nc annual.nc ; mv annual.nc {c}.{y}.ann.nc
""",
    "ncatted": "ncatted -h -O -a filename,global,m,c,{c}.{y}.ann.nc {c}.{y}.ann.nc",
    "mv": "mv {c}.{y}.ann.nc /vftmp/{u}/job{j}/tempCache/{c}.{y}.ann.nc",
    "dmput": """
perl -w /home/gfdl/bin2/dmput {c}.{y}.*.nc
  *2 mv -f /tmp/dmput_{hst}_{j}.{y} /home/gfdl/dmcmds/requests
  dmput {c}.{y}.volcello.nc {c}.{y}.thkcello.nc
date +%s
cut -f1
  du -ksh /vftmp/{u}/job{j}
perl /home/fms/local/opt/fre-commands/bronx-15/bin/frepp -A -x /home/{u}/ESM4.xml
  bash -c date +%Z 2> /dev/null
    date +%Z
  *6 id -Gn
""",
}
# One simulated year of the post-processing script, after 1-3 hsmget operations.
_YEAR = ("ncrcat", "rm", "timavg", "untar", "cp", "fregrid", "ncatted", "mv", "dmput")


class _Spec(NamedTuple):
    exe: str
    args: str
    lo: int
    hi: int
    pipe: bool
    detached: bool
    kids: tuple[_Spec, ...]


def _lines(text: str, level: int = 0) -> Iterator[tuple[int, str]]:
    for line in text.split("\n"):
        body, at = line.strip(), level + (len(line) - len(line.lstrip())) // 2
        if body.startswith("@"):
            yield from _lines(_FRAGMENTS[body[1:]], at)
        elif body:
            yield from ((at, part) for part in body.split(" ; "))


def _parse(text: str) -> tuple[_Spec, ...]:
    lines = list(_lines(text))

    def block(i: int, level: int) -> tuple[tuple[_Spec, ...], int]:
        out = []
        while i < len(lines) and lines[i][0] == level:
            body, lo, hi = lines[i][1], 1, 1
            if body.startswith("*"):
                rep, body = body[1:].split(" ", 1)
                lo_s, _, hi_s = rep.partition("-")
                lo, hi = int(lo_s), int(hi_s or lo_s)
            pipe, body = body.startswith("|"), body.lstrip("|")
            detached, body = body.startswith("&"), body.lstrip("&")
            kids, i = block(i + 1, level + 1)
            if body.startswith("$"):
                body = f"tcsh -f -c {body[1:]}"
                kids = (_Spec("tcsh", body[5:], 1, 1, False, False, ()), *kids)
            exe, _, args = body.partition(" ")
            out.append(_Spec(exe, args, lo, hi, pipe, detached, kids))
        return tuple(out), i

    return block(0, 0)[0]


_TEMPLATES = {name: _parse(text) for name, text in _OPS.items()}


class _Node(NamedTuple):
    spec: _Spec
    prefix: str  # the row's first fields: "tags,hostname,exename,path,args,"
    kids: list[_Node]


@dataclass(frozen=True)
class SyntheticJob:
    """What :func:`generate_job` wrote: the job's identity, window and metadata.

    Attributes
    ----------
    jobid, host : str
        The job id and the one host its processes ran on.
    csv_name : str
        The collated CSV's file name, ``<host>-collated-papiex-<jobid>-0.csv``.
    start, stop : int
        The job's window in microseconds since the epoch (UTC); every process lies inside.
    n_procs, n_rows : int
        Processes, and CSV data rows (one per process plus one per extra thread).
    metadata : dict
        The ``job_metadata`` dict: the keys of the real archives, naive US/Eastern times.
    """

    jobid: str
    host: str
    csv_name: str
    start: int
    stop: int
    n_procs: int
    n_rows: int
    metadata: dict[str, Any]


def _local(us: int) -> dt.datetime:
    utc = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)
    return utc.astimezone(_TZ).replace(tzinfo=None)


class _Gen:
    """One job's simulation: pid allocation, timing, and row formatting."""

    def __init__(self, seed: int, jobid: str, max_depth: int) -> None:
        self.rng = rng = random.Random(seed)
        self.jit, self.max_depth, self.jobid = rng.lognormvariate, max_depth, jobid
        self.n_procs = self.n_rows = 0
        self.host, self.sid = f"pp{rng.randint(1, 320):03d}", rng.randint(1000, 30000)
        # The session leader, the task and the top shell's parent live outside the job.
        self.pgid, self.top_ppid = self.sid + 5, self.sid + 13
        self.busy = dict.fromkeys((self.sid, self.pgid, self.top_ppid), _FOREVER)
        self.next_pid, self.counts, self.tag = self.top_ppid, {"": 0}, ""
        self.t0 = self.last_t = 1_560_600_000_000_000 + rng.randrange(60 * 86400 * 10**6)
        self.year, self.comp = rng.randint(1850, 1990), rng.choice(("ocean_annual", "atmos_month"))
        self.script = f"/home/{_USER}/ESM4/scripts/postProcess/ESM4_synth_{self.comp}_{jobid}.tags"
        self.fields = {"u": _USER, "j": jobid, "hst": self.host, "c": self.comp, "s": self.script}
        self.fields |= {"hsm": "/home/fms/local/opt/hsm/1.2.2", "lb": "cdtn.lb.rdhpcs.noaa.gov"}
        self.fields["fre"] = "/home/fms/local/opt/fre-nctools/bronx-15/share/bin/"

    def alloc(self, t: int) -> int:
        """The next pid free at time ``t``, past those the node's other activity took."""
        extra = int(max(0, t - self.last_t) * _BG_PIDS_PER_US + 1.2 * self.rng.random())
        self.last_t = max(self.last_t, t)
        pid, busy = self.next_pid + 1 + extra, self.busy
        while True:
            if pid >= _PID_MAX:
                pid = _PID_MIN + (pid - _PID_MAX) % (_PID_MAX - _PID_MIN)
            if busy.get(pid, -1) < t:
                break
            pid += 1
        busy[pid], self.next_pid = _FOREVER, pid
        return pid

    def row(
        self, ex: _Exe, prefix: str, pid: int, ppid: int, tids: list[int], start: int, end: int
    ) -> str:
        """Format a process row and its thread rows, and free its pid and tids at ``end``."""
        group, sid = (pid, pid) if ppid == 1 else (self.pgid, self.sid)
        ticks, r = int(ex.cpu * self.jit(0, 0.5) / 1000 + 0.5), self.rng.random()
        user, sys = ticks * 999830 // 1000, int(ticks * r) * 999830 // 1000
        dur, rss, vol, oncpu = end - start, ex.rss + int(r * 200), int(20 * r * r), user + sys
        line = (
            f"{prefix}{int(r < ex.fail)},{pid},0,{ppid},{group},{sid},{len(tids) + 1},{pid},"
            f"{start},{end},{user},{sys},{rss},{rss // 3 + vol},0,0,{8 * (r < 0.3)},{vol},"
            f"{int(3 * r)},0,{ex.starttime},0,0,0,{rss * 11 + vol},{int(99 * r)},{70 + vol},"
            f"{int(3 * r)},0,{4096 * (r < 0.3)},0,{oncpu * 1100},{30000 + int(dur * r)},{vol + 2},"
            f"{dur * 3350 + vol},{min(dur, oncpu) * 1000 + 40000}"
        )
        for k, tid in enumerate(tids):  # papiex lists the threads after their process
            ts, te = start + dur // 10 + k, end - dur // 10 - k
            line += (
                f"\n,,,,,,,,,,,,{tid},{ts},{te},0,0,{rss},{39 + k},0,0,0,{vol + 1},0,0,"
                f"{ex.starttime},0,0,0,{275 + k},0,4,0,0,0,0,{130000 + vol},{(te - ts) * 300},"
                f"{vol + 2},{(te - ts) * 3350},{40000 + k}"
            )
            self.busy[tid] = end
        self.busy[pid] = end
        self.n_procs, self.n_rows = self.n_procs + 1, self.n_rows + 1 + len(tids)
        return line

    def expand(
        self, specs: tuple[_Spec, ...], tag: str, fields: dict[str, Any], depth: int
    ) -> list[_Node]:
        """Instantiate templates at ``depth``: draw repeat counts, fill and escape the args."""
        out: list[_Node] = []
        if depth > self.max_depth:
            return out
        for s in specs:
            args = s.args.format_map(fields).replace("\\", "\\\\").replace(",", "\\,")
            prefix = f"{tag},{self.host},{s.exe},{_EXES[s.exe].path},{args},"
            for _ in range(self.rng.randint(s.lo, s.hi)):
                out.append(_Node(s, prefix, self.expand(s.kids, tag, fields, depth + 1)))
        return out

    def run(self, node: _Node, ppid: int, start: int, rows: list[tuple[int, str]]) -> int:
        """Simulate ``node``'s subtree from ``start``, adding its rows; return its end."""
        ex, jit = _EXES[node.spec.exe], self.jit
        pid = self.alloc(start)
        tids = [self.alloc(start) for _ in range(ex.threads - 1)]
        prev = kids_end = start
        for kid in node.kids:
            gap = int(3000 * jit(0, 0.3)) if kid.spec.pipe else int(9000 * jit(0, 0.3))
            prev = (prev if kid.spec.pipe else kids_end) + gap
            kids_end = max(kids_end, self.run(kid, pid, prev, rows))
        end = start + 1 + int(ex.dur * jit(0, ex.sigma))
        if node.kids:
            end = max(end, kids_end + int(1500 * jit(0, 0.3)))
        ppid = 1 if node.spec.detached else ppid
        rows.append((end, self.row(ex, node.prefix, pid, ppid, tids, start, end)))
        return end

    def op(self, name: str, budget: int) -> tuple[list[_Node], int]:
        """Operation ``name`` and its size, or ``([], 0)`` if it needs over ``budget`` processes."""
        seq, inst = self.counts[""] + 1, self.counts.get(name, 0) + 1
        tag = "" if name == "pre" else f"op:{name};op_instance:{inst};op_sequence:{seq}"
        year = self.year + seq // (len(_YEAR) + 2)
        f, hist = f"{year}0101.{self.comp}.nc", f"/archive/{_USER}/ESM4/history/{year}0101.nc"
        fields = self.fields | {"y": year, "f": f, "ar": f"{hist}.tar", "pt": f"/ptmp{hist}/{f}"}
        fields |= {"w": f"/vftmp/{_USER}/job{self.jobid}/{year}0101.nc", "h": seq % 3 + 14}
        nodes = self.expand(_TEMPLATES[name], tag, fields, 1)
        stack, size = list(nodes), 0
        while stack:
            size += 1
            stack.extend(stack.pop().kids)
        if size > budget:
            return [], 0
        if tag:
            self.counts |= {"": seq, name: inst}
            self.tag = tag
        return nodes, size

    def chain(self, length: int, ppid: int, start: int, rows: list[tuple[int, str]]) -> int:
        """A ``length``-deep chain of bash processes, each the only child of the previous."""
        seq, inst = self.counts[""] + 1, self.counts.get("recurse", 0) + 1
        self.counts |= {"": seq, "recurse": inst}
        self.tag = f"op:recurse;op_instance:{inst};op_sequence:{seq}"
        ex, starts, pids = _EXES["bash"], [], []
        for _ in range(length):
            starts.append(start)
            pids.append(self.alloc(start))
            start += int(800 * self.jit(0, 0.3))
        end = start + int(ex.dur * self.jit(0, ex.sigma))
        for k in reversed(range(length)):
            prefix = f"{self.tag},{self.host},bash,{ex.path},/home/{_USER}/recurse.sh {length - k},"
            parent = pids[k - 1] if k else ppid
            rows.append((end, self.row(ex, prefix, pids[k], parent, [], starts[k], end)))
            end += int(1500 * self.jit(0, 0.3))
        return end

    def job(self, n_procs: int, chain: int, write: Callable[[str], object]) -> int:
        """Write the job's rows with ``write``; return the end of the top shell."""
        top_start = self.t0 + int(50_000 * self.jit(0, 0.3))
        top, budget, queue = self.alloc(top_start), n_procs - 1 - chain, ["pre"]
        chain_at, t = budget // 2, top_start + int(7000 * self.jit(0, 0.3))
        while budget or chain:
            rows: list[tuple[int, str]] = []
            if chain and budget <= chain_at:
                t, chain = self.chain(chain, top, t, rows) + int(9000 * self.jit(0, 0.3)), 0
            else:
                queue = queue or ["hsmget"] * self.rng.randint(1, 3) + list(_YEAR)
                nodes, size = self.op(queue.pop(0), budget)
                nodes, size = (nodes, size) if nodes else self.op("mv", budget)
                budget -= size
                for node in nodes:
                    t = self.run(node, top, t, rows) + int(9000 * self.jit(0, 0.3))
            rows.sort(key=itemgetter(0))  # papiex writes a process's row when it ends
            write("".join(f"{line}\n" for _, line in rows))
        # The top shell shows the tags in force when it exited: the last operation's.
        prefix = f"{self.tag},{self.host},tcsh,/bin/tcsh,-f {self.script},"
        end = t + int(2000 * self.jit(0, 0.3))
        write(self.row(_EXES["tcsh"], prefix, top, self.top_ppid, [], top_start, end) + "\n")
        return end


def _metadata(gen: _Gen, start: int, stop: int) -> dict[str, Any]:
    """The ``job_metadata`` dict, with the keys and value types of the real archives."""
    jobname = f"ESM4_synth_{gen.comp}_{gen.year}0101"
    tags = f"exp_name:ESM4_synth;exp_component:{gen.comp};exp_time:{gen.year}0101"
    tmp = f"/vftmp/{_USER}/job{gen.jobid}"
    env = {"EPMT_JOB_TAGS": f"{tags};atm_res:c96l49;ocn_res:0.5l75;script_name:{jobname}"}
    env |= {"HOME": f"/home/{_USER}", "HOST": gen.host, "HOSTNAME": gen.host, "JOB_ID": gen.jobid}
    env |= {"LOGNAME": _USER, "USER": _USER, "SHELL": "/bin/tcsh", "OMP_NUM_THREADS": "1"}
    env |= {"PAPIEX_OUTPUT": f"{tmp}/papiex/", "PWD": tmp, "TMPDIR": tmp, "TMP": tmp}
    env |= {"SLURM_JOBID": gen.jobid, "SLURM_JOB_ID": gen.jobid, "SLURM_JOB_NAME": jobname}
    env |= {"SLURM_JOB_USER": _USER, "SLURM_JOB_UID": str(_UID), "SLURM_JOB_GID": str(_GID)}
    env |= {"SLURM_CLUSTER_NAME": "gfdl", "SLURM_JOB_NODELIST": gen.host, "SLURM_NNODES": "1"}
    env |= {"SLURM_NTASKS": "1", "SLURM_TASK_PID": str(gen.pgid), "SLURMD_NODENAME": gen.host}
    env |= {"SLURM_SUBMIT_DIR": gen.script.rsplit("/", 1)[0], "jobname": jobname}
    env |= {"pp_script": gen.script}
    return {
        "job_pl_id": gen.jobid,
        "job_pl_submit_ts": _local(start),
        "job_pl_start_ts": _local(start),
        "job_el_reason": "none",
        "job_el_exitcode": 0,
        "job_el_stop_ts": _local(stop),
        "job_el_env": env,
        "job_pl_env": dict(env),
    }


def generate_job(
    n_procs: int,
    out: TextIO,
    *,
    seed: int = 0,
    jobid: str | None = None,
    max_depth: int | None = None,
    chain: int = 0,
) -> SyntheticJob:
    """Write a synthetic job's collated papiex CSV (format v1) to ``out``, streaming.

    Parameters
    ----------
    n_procs : int
        Exactly how many processes the job has (threads are extra rows, not processes).
    out : text stream
        Where the CSV goes, header first, rows in end order; nothing is held in memory.
    seed : int
        The random seed (``>= 0``): the same arguments give the same text.
    jobid : str, optional
        The job id; default ``str(900000 + seed)``.
    max_depth : int, optional
        The deepest level of the operations' subtrees (the top shell is level 0); deeper
        template processes are left out. Default: unlimited (real jobs reach 7).
    chain : int
        Adds, halfway through, a ``chain``-deep chain of nested processes, each the only
        child of the previous one (the deepest is at depth ``chain``); ignores ``max_depth``.

    Returns
    -------
    SyntheticJob
        The job's id, host, window, counts and ``job_metadata`` dict.

    Raises
    ------
    ConfigError
        If an argument is out of range.

    Examples
    --------
    >>> import io
    >>> buf = io.StringIO()
    >>> job = generate_job(1000, buf, seed=1, chain=50)
    >>> job.n_procs, job.jobid, job.metadata["job_el_env"]["SLURM_JOB_ID"]
    (1000, '900001', '900001')
    """
    if seed < 0 or not 0 <= chain <= _MAX_CHAIN or n_procs < 1 + chain:
        raise ConfigError(f"need seed >= 0, 0 <= chain <= {_MAX_CHAIN}, n_procs > chain")
    if max_depth is not None and max_depth < 1:
        raise ConfigError(f"max_depth must be at least 1, not {max_depth}")
    jobid = str(900_000 + seed) if jobid is None else jobid
    gen = _Gen(seed, jobid, _FOREVER if max_depth is None else max_depth)
    out.write(HEADER + "\n")
    start, stop = gen.t0, gen.job(n_procs, chain, out.write) + int(2000 * gen.jit(0, 0.3))
    csv_name = f"{gen.host}-collated-papiex-{jobid}-0.csv"
    meta = _metadata(gen, start, stop)
    return SyntheticJob(jobid, gen.host, csv_name, start, stop, gen.n_procs, gen.n_rows, meta)


class _Protocol0Pickler(pickle.Pickler):
    """Pickles datetimes as ``datetime(y, m, d, ...)`` calls, not via ``_codecs.encode``."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, dt.datetime):
            t = (obj.year, obj.month, obj.day, obj.hour, obj.minute, obj.second, obj.microsecond)
            return dt.datetime, t
        return NotImplemented


def write_archive(
    path: str | PathLike[str],
    n_procs: int,
    *,
    seed: int = 0,
    jobid: str | None = None,
    max_depth: int | None = None,
    chain: int = 0,
) -> Path:
    """Write a synthetic job as an EPMT archive: a ``.tgz`` of ``job_metadata`` and the CSV.

    The arguments are those of :func:`generate_job`. The CSV streams through a temporary
    file; tar and gzip headers carry fixed times and owners, so the bytes depend only on the
    arguments.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tarfile, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     archive = write_archive(Path(d) / "job.tgz", 300, seed=2, jobid="42")
    ...     names = tarfile.open(archive).getnames()
    >>> names
    ['.', './job_metadata', './pp029-collated-papiex-42-0.csv']
    """
    path = Path(path)
    with tempfile.TemporaryFile() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        job = generate_job(n_procs, text, seed=seed, jobid=jobid, max_depth=max_depth, chain=chain)
        text.flush()
        text.detach()
        meta = io.BytesIO()
        _Protocol0Pickler(meta, protocol=0).dump(job.metadata)
        mtime = job.stop // 1_000_000
        with (
            path.open("wb") as fh,
            gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=6) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar,
        ):
            for name, size, data in (
                ("./", 0, None),
                ("./job_metadata", meta.tell(), meta),
                (f"./{job.csv_name}", raw.tell(), raw),
            ):
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.uid, info.gid = size, mtime, _UID, _GID
                info.uname, info.gname, info.mode = _USER, "f", 0o644
                if data is None:
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                else:
                    data.seek(0)
                tar.addfile(info, data)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m epmt_graph.loader.synthetic OUT.tgz --procs N [options]``."""
    parser = argparse.ArgumentParser(
        prog="python -m epmt_graph.loader.synthetic", description="Write a synthetic EPMT job."
    )
    parser.add_argument("out", type=Path, help="the .tgz archive to write")
    parser.add_argument("--procs", type=int, default=50_000, help="processes (default 50000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--chain", type=int, default=0, help="add a chain this deep")
    parser.add_argument("--jobid", help="job id (default 900000 + seed)")
    parser.add_argument("--max-depth", type=int, help="deepest level of the operations")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    opts = {name: getattr(args, name) for name in ("seed", "jobid", "max_depth", "chain")}
    try:
        path = write_archive(args.out, args.procs, **opts)
    except ConfigError as exc:
        parser.error(str(exc))
    took = time.perf_counter() - began
    print(f"{path}: {args.procs} processes, {path.stat().st_size} bytes, {took:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
