"""The synthetic jobs' data: executables, their costs, and the operations' process templates.

The tables are plain text, parsed once at import: ``EXES`` holds the executables and
``TEMPLATES`` the process trees of each operation, which ``generate`` instantiates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple
from zoneinfo import ZoneInfo

__all__ = [
    "BG_PIDS_PER_US",
    "EXES",
    "FOREVER",
    "GID",
    "HEADER",
    "MAX_CHAIN",
    "PID_MAX",
    "PID_MIN",
    "TEMPLATES",
    "TZ",
    "UID",
    "USER",
    "YEAR",
    "Exe",
    "Spec",
]

#: The header of a collated papiex CSV (format v1), as in the real archives.
HEADER = (
    "tags,hostname,exename,path,args,exitcode,pid,generation,ppid,pgid,sid,numtids,tid,start,"
    "end,usertime,systemtime,rssmax,minflt,majflt,inblock,outblock,vol_ctxsw,invol_ctxsw,"
    "num_threads,starttime,processor,delayacct_blkio_time,guest_time,rchar,wchar,syscr,syscw,"
    "read_bytes,write_bytes,cancelled_write_bytes,time_oncpu,time_waiting,timeslices,"
    "rdtsc_duration,PERF_COUNT_SW_CPU_CLOCK"
)
PID_MAX, PID_MIN = 32768, 300  # Linux pid_max; pids wrap to just above RESERVED_PIDS
BG_PIDS_PER_US = 5e-6  # pids taken by the node's other activity: about 5 a second
MAX_CHAIN = 30000  # a chain is alive all at once: it must fit in the pid space
FOREVER = 1 << 62  # later than any time, deeper than any depth: "never", "unlimited"
#: The time zone of the metadata's naive timestamps.
TZ = ZoneInfo("US/Eastern")
#: The job's owner: user name, uid and gid (in the environment and the tar headers).
USER, UID, GID = "Synthetic.User", 4242, 70
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


class Exe(NamedTuple):
    """An executable of the table and its simulated costs.

    Attributes
    ----------
    path : str
        The executable's full path.
    dur, cpu : int
        Median duration and median usertime, in microseconds.
    sigma : float
        The log-sigma of the duration's log-normal distribution.
    rss, threads : int
        Maximum resident set size and number of threads.
    fail : float
        The chance of exit code 1.
    starttime : int
        Papiex's ``starttime`` column, a per-executable constant.
    """

    path: str
    dur: int  # median duration (us); log-normal with log-sigma ``sigma``
    sigma: float
    cpu: int  # median usertime (us)
    rss: int
    threads: int
    fail: float
    starttime: int  # papiex's "starttime" column: a per-executable constant in the samples


def _exes() -> dict[str, Exe]:
    out: dict[str, Exe] = {}
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
            out[name] = Exe(folder + name, int(dur), sig, int(cpu), rss, thr, fail, st)
    return out


#: The executables by name: ``EXES["bash"].path == "/bin/bash"``.
EXES = _exes()

# Templates: a line per process, or several siblings joined by " ; "; two spaces of indent a
# level; "[*lo-hi ][|][&]exe args". "*lo-hi" repeats the subtree; "|" starts it with its
# previous sibling (a pipeline); "&" detaches it to ppid 1 (a root); "$cmd" is "tcsh -f -c cmd"
# whose first child is the same (the subshell); "@name" splices a fragment. The "{x}" are
# filled per operation (see ``_Gen.op`` in generate.py).
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
YEAR = ("ncrcat", "rm", "timavg", "untar", "cp", "fregrid", "ncatted", "mv", "dmput")


class Spec(NamedTuple):
    """A parsed template line: a process to create, and the templates of its children.

    Attributes
    ----------
    exe, args : str
        The executable's name (a key of ``EXES``) and its arguments, with ``{x}`` fields.
    lo, hi : int
        The bounds of the subtree's repeat count.
    pipe : bool
        Whether it starts with its previous sibling (a pipeline).
    detached : bool
        Whether it is detached to ``ppid 1`` (a root).
    kids : tuple of Spec
        Its children's templates.
    """

    exe: str
    args: str
    lo: int
    hi: int
    pipe: bool
    detached: bool
    kids: tuple[Spec, ...]


def _lines(text: str, level: int = 0) -> Iterator[tuple[int, str]]:
    for line in text.split("\n"):
        body, at = line.strip(), level + (len(line) - len(line.lstrip())) // 2
        if body.startswith("@"):
            yield from _lines(_FRAGMENTS[body[1:]], at)
        elif body:
            yield from ((at, part) for part in body.split(" ; "))


def _parse(text: str) -> tuple[Spec, ...]:
    lines = list(_lines(text))

    def block(i: int, level: int) -> tuple[tuple[Spec, ...], int]:
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
                kids = (Spec("tcsh", body[5:], 1, 1, False, False, ()), *kids)
            exe, _, args = body.partition(" ")
            out.append(Spec(exe, args, lo, hi, pipe, detached, kids))
        return tuple(out), i

    return block(0, 0)[0]


#: The operations' parsed templates, by operation name.
TEMPLATES = {name: _parse(text) for name, text in _OPS.items()}
