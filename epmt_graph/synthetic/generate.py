"""The generator: simulates one job's process tree and streams its papiex rows."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple, TextIO

from epmt_graph.errors import ConfigError
from epmt_graph.synthetic.catalog import (
    BG_PIDS_PER_US,
    EXES,
    FOREVER,
    GID,
    HEADER,
    MAX_CHAIN,
    PID_MAX,
    PID_MIN,
    TEMPLATES,
    TZ,
    UID,
    USER,
    YEAR,
    Exe,
    Spec,
)

__all__ = ["SyntheticJob", "generate_job"]


class _Node(NamedTuple):
    spec: Spec
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
    return utc.astimezone(TZ).replace(tzinfo=None)


class _Gen:
    """One job's simulation: pid allocation, timing, and row formatting."""

    def __init__(self, seed: int, jobid: str, max_depth: int) -> None:
        self.rng = rng = random.Random(seed)
        self.jit, self.max_depth, self.jobid = rng.lognormvariate, max_depth, jobid
        self.n_procs = self.n_rows = 0
        self.host, self.sid = f"pp{rng.randint(1, 320):03d}", rng.randint(1000, 30000)
        # The session leader, the task and the top shell's parent live outside the job.
        self.pgid, self.top_ppid = self.sid + 5, self.sid + 13
        self.busy = dict.fromkeys((self.sid, self.pgid, self.top_ppid), FOREVER)
        self.next_pid, self.counts, self.tag = self.top_ppid, {"": 0}, ""
        self.t0 = self.last_t = 1_560_600_000_000_000 + rng.randrange(60 * 86400 * 10**6)
        self.year, self.comp = rng.randint(1850, 1990), rng.choice(("ocean_annual", "atmos_month"))
        self.script = f"/home/{USER}/ESM4/scripts/postProcess/ESM4_synth_{self.comp}_{jobid}.tags"
        self.fields = {"u": USER, "j": jobid, "hst": self.host, "c": self.comp, "s": self.script}
        self.fields |= {"hsm": "/home/fms/local/opt/hsm/1.2.2", "lb": "cdtn.lb.rdhpcs.noaa.gov"}
        self.fields["fre"] = "/home/fms/local/opt/fre-nctools/bronx-15/share/bin/"

    def alloc(self, t: int) -> int:
        """The next pid free at time ``t``, past those the node's other activity took."""
        extra = int(max(0, t - self.last_t) * BG_PIDS_PER_US + 1.2 * self.rng.random())
        self.last_t = max(self.last_t, t)
        pid, busy = self.next_pid + 1 + extra, self.busy
        while True:
            if pid >= PID_MAX:
                pid = PID_MIN + (pid - PID_MAX) % (PID_MAX - PID_MIN)
            if busy.get(pid, -1) < t:
                break
            pid += 1
        busy[pid], self.next_pid = FOREVER, pid
        return pid

    def row(
        self, ex: Exe, prefix: str, pid: int, ppid: int, tids: list[int], start: int, end: int
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
        self, specs: tuple[Spec, ...], tag: str, fields: dict[str, Any], depth: int
    ) -> list[_Node]:
        """Instantiate templates at ``depth``: draw repeat counts, fill and escape the args."""
        out: list[_Node] = []
        if depth > self.max_depth:
            return out
        for s in specs:
            args = s.args.format_map(fields).replace("\\", "\\\\").replace(",", "\\,")
            prefix = f"{tag},{self.host},{s.exe},{EXES[s.exe].path},{args},"
            for _ in range(self.rng.randint(s.lo, s.hi)):
                out.append(_Node(s, prefix, self.expand(s.kids, tag, fields, depth + 1)))
        return out

    def run(self, node: _Node, ppid: int, start: int, rows: list[tuple[int, str]]) -> int:
        """Simulate ``node``'s subtree from ``start``, adding its rows; return its end."""
        ex, jit = EXES[node.spec.exe], self.jit
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
        year = self.year + seq // (len(YEAR) + 2)
        f, hist = f"{year}0101.{self.comp}.nc", f"/archive/{USER}/ESM4/history/{year}0101.nc"
        fields = self.fields | {"y": year, "f": f, "ar": f"{hist}.tar", "pt": f"/ptmp{hist}/{f}"}
        fields |= {"w": f"/vftmp/{USER}/job{self.jobid}/{year}0101.nc", "h": seq % 3 + 14}
        nodes = self.expand(TEMPLATES[name], tag, fields, 1)
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
        ex, starts, pids = EXES["bash"], [], []
        for _ in range(length):
            starts.append(start)
            pids.append(self.alloc(start))
            start += int(800 * self.jit(0, 0.3))
        end = start + int(ex.dur * self.jit(0, ex.sigma))
        for k in reversed(range(length)):
            prefix = f"{self.tag},{self.host},bash,{ex.path},/home/{USER}/recurse.sh {length - k},"
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
                queue = queue or ["hsmget"] * self.rng.randint(1, 3) + list(YEAR)
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
        write(self.row(EXES["tcsh"], prefix, top, self.top_ppid, [], top_start, end) + "\n")
        return end


def _metadata(gen: _Gen, start: int, stop: int) -> dict[str, Any]:
    """The ``job_metadata`` dict, with the keys and value types of the real archives."""
    jobname = f"ESM4_synth_{gen.comp}_{gen.year}0101"
    tags = f"exp_name:ESM4_synth;exp_component:{gen.comp};exp_time:{gen.year}0101"
    tmp = f"/vftmp/{USER}/job{gen.jobid}"
    env = {"EPMT_JOB_TAGS": f"{tags};atm_res:c96l49;ocn_res:0.5l75;script_name:{jobname}"}
    env |= {"HOME": f"/home/{USER}", "HOST": gen.host, "HOSTNAME": gen.host, "JOB_ID": gen.jobid}
    env |= {"LOGNAME": USER, "USER": USER, "SHELL": "/bin/tcsh", "OMP_NUM_THREADS": "1"}
    env |= {"PAPIEX_OUTPUT": f"{tmp}/papiex/", "PWD": tmp, "TMPDIR": tmp, "TMP": tmp}
    env |= {"SLURM_JOBID": gen.jobid, "SLURM_JOB_ID": gen.jobid, "SLURM_JOB_NAME": jobname}
    env |= {"SLURM_JOB_USER": USER, "SLURM_JOB_UID": str(UID), "SLURM_JOB_GID": str(GID)}
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
    if seed < 0 or not 0 <= chain <= MAX_CHAIN or n_procs < 1 + chain:
        raise ConfigError(f"need seed >= 0, 0 <= chain <= {MAX_CHAIN}, n_procs > chain")
    if max_depth is not None and max_depth < 1:
        raise ConfigError(f"max_depth must be at least 1, not {max_depth}")
    jobid = str(900_000 + seed) if jobid is None else jobid
    gen = _Gen(seed, jobid, FOREVER if max_depth is None else max_depth)
    out.write(HEADER + "\n")
    start, stop = gen.t0, gen.job(n_procs, chain, out.write) + int(2000 * gen.jit(0, 0.3))
    csv_name = f"{gen.host}-collated-papiex-{jobid}-0.csv"
    meta = _metadata(gen, start, stop)
    return SyntheticJob(jobid, gen.host, csv_name, start, stop, gen.n_procs, gen.n_rows, meta)
