#!/usr/bin/env python3
"""Hostile clients for bench/hostile.sh (Python 3 standard library only).

Each phase is one subcommand; it appends one JSON record to --results and prints a short line.
`report` reads the records, prints the summary table and exits 1 when a check failed.

    hostile.py baseline  --port P --pid PID --results FILE [--seconds 5]
    hostile.py slowloris --port P --pid PID --results FILE [--conns 1000] [--seconds 20]
    hostile.py flood     --port P --pid PID --results FILE [--conns 200] [--seconds 10] [--kinds K,...]
    hostile.py idle      --port P --pid PID --results FILE [--conns 9990] [--seconds 10]
    hostile.py signin    --port P --pid PID --results FILE [--conns 16] [--seconds 10]
    hostile.py overload  --port P --pid PID --results FILE [--conns 500] [--depth 8] [--seconds 10]
    hostile.py createprobe --port P --seconds S      (a normal writer; JSON on stdout)
    hostile.py probe     --port P --seconds S          (the normal client; JSON on stdout)
    hostile.py report    --pid PID --results FILE

Every phase: RSS of the server before (VmRSS), its peak while the hostile clients are there
(sampled every 0.1 s), then the hostile clients leave, a normal client must get 200 from
`GET /health` on fresh connections at once (recovery), the server's open descriptors must fall
back to where they were (the 2 s lingering close included), and VmRSS is read again (after).
The baseline, signin and overload phases also run a normal writer beside the normal reader: sequential
`POST /api/posts:create` with the bench seed's member token; every record it (or the overload) was
told was created must exist afterwards.
"""
import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

HOST = "127.0.0.1"
HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: hostile-probe\r\n\r\n"
MiB = 1 << 20


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---- the server process ---------------------------------------------------------------------

def proc_status(pid):
    """{'VmRSS': kB, 'VmHWM': kB, 'State': 'S'} or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            out = {}
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(value.split()[0])
                elif key == "State":
                    out[key] = value.split()[0]
            return out
    except OSError:
        return None


def alive(pid):
    st = proc_status(pid)
    return st is not None and st.get("State") not in ("Z", "X")


def rss_kib(pid):
    st = proc_status(pid)
    return st.get("VmRSS", 0) if st else 0


def open_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


class Sampler(threading.Thread):
    """The server's peak VmRSS and open descriptors, every 0.1 s, until stop()."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak_rss, self.peak_fds, self.died = pid, rss_kib(pid), open_fds(pid), False
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.wait(0.1):
            if not alive(self.pid):
                self.died = True
                return
            self.peak_rss = max(self.peak_rss, rss_kib(self.pid))
            self.peak_fds = max(self.peak_fds, open_fds(self.pid))

    def stop(self):
        self._stop_event.set()
        self.join()
        return self.peak_rss


# ---- the normal client ----------------------------------------------------------------------

def read_response(sock, buf=b""):
    """Reads one response from a blocking socket: (status, close_after, leftover). Raises OSError/EOFError."""
    status, close, _, rest = read_response_body(sock, buf)
    return status, close, rest


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def sequential_client(port, seconds, interval, make_request):
    """Sequential requests (`make_request(n)`) over one keep-alive connection (reopened if closed),
    a pause of `interval` s between them. A request that fails counts its time until the failure.
    Returns the summary and the bodies of the 2xx answers."""
    latencies, errors, statuses, connects, bodies = [], 0, {}, 0, []
    sock, buf = None, b""
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        if sock is None:
            try:
                sock = socket.create_connection((HOST, port), timeout=10)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                connects += 1
                buf = b""
            except OSError:
                errors += 1
                time.sleep(0.05)
                continue
        n += 1
        t0 = time.perf_counter()
        try:
            sock.sendall(make_request(n))
            status, close, body, buf = read_response_body(sock, buf)
        except (OSError, EOFError, ValueError, IndexError):
            latencies.append(time.perf_counter() - t0)
            errors += 1
            sock.close()
            sock = None
            continue
        latencies.append(time.perf_counter() - t0)
        statuses[status] = statuses.get(status, 0) + 1
        if 200 <= status < 300:
            bodies.append(body)
        if close:
            sock.close()
            sock = None
        if interval:
            time.sleep(interval)
    if sock is not None:
        sock.close()
    latencies.sort()
    ms = lambda v: None if v is None else round(v * 1000, 3)
    return {"n": len(latencies), "p50_ms": ms(percentile(latencies, 50)), "p99_ms": ms(percentile(latencies, 99)),
            "max_ms": ms(latencies[-1] if latencies else None), "errors": errors, "connects": connects,
            "statuses": {str(k): v for k, v in sorted(statuses.items())}}, bodies


def probe(port, seconds, interval):
    """The normal reader: sequential GET /health; an answer other than 200 counts as an error."""
    result, _ = sequential_client(port, seconds, interval, lambda n: HEALTH)
    result["errors"] += sum(v for k, v in result["statuses"].items() if k != "200")
    return result


def start_probe(port, seconds, interval=0.005, command="probe"):
    """A normal client (`probe` or `createprobe`) in its own process (its own GIL and CPU time, as a real client)."""
    return subprocess.Popen([sys.executable, os.path.abspath(__file__), command, "--port", str(port),
                             "--seconds", str(seconds), "--interval", str(interval)], stdout=subprocess.PIPE, text=True)


def finish_probe(process):
    out, _ = process.communicate()
    try:
        return json.loads(out)
    except ValueError:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "max_ms": None, "errors": 1, "connects": 0, "statuses": {}, "ids": [],
                "failed": f"the probe exited {process.returncode}"}


MEMBER_TOKEN = "tb_bench_member_0123456789abcdef"   # bench/bench.seed.json


def create_request(title):
    body = json.dumps({"title": title}).encode()
    return (b"POST /api/posts:create HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + MEMBER_TOKEN.encode()
            + b"\r\nX-Role: member\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def read_response_body(sock, buf=b""):
    """Like read_response, but also returns the body: (status, close, body, leftover)."""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise EOFError("closed before a response head")
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status, length, close = int(lines[0].split()[1]), 0, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"connection" and b"close" in value.lower():
            close = True
    while len(rest) < length:
        data = sock.recv(65536)
        if not data:
            raise EOFError("closed inside a response body")
        rest += data
    return status, close, rest[:length], rest[length:]


def created_id(body):
    try:
        return json.loads(body)["data"]["id"]
    except (ValueError, KeyError, TypeError):
        return None


def create_probe(port, seconds, interval):
    """The normal writer: sequential creates, `interval` s apart. Latencies of every answer (a shed
    503 included), statuses, and the ids of the 2xx ones."""
    result, bodies = sequential_client(port, seconds, interval, lambda n: create_request(f"probe {n}"))
    result["ids"] = [created_id(body) for body in bodies]
    return result


def missing_records(port, ids):
    """How many of `ids` (posts the server answered 2xx for) are not there, read back by the member."""
    wanted = sorted(i for i in ids if isinstance(i, int))
    missing = len(ids) - len(wanted)   # a 2xx without an id counts as missing
    with socket.create_connection((HOST, port), timeout=30) as sock:
        buf = b""
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            query = urllib.parse.quote(json.dumps({"id": {"$in": chunk}}, separators=(",", ":")))
            sock.sendall((f"GET /api/posts:list?fields=id&pageSize=500&filter={query} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          f"Authorization: Bearer {MEMBER_TOKEN}\r\nX-Role: member\r\n\r\n").encode())
            status, _, body, buf = read_response_body(sock, buf)
            found = {r["id"] for r in json.loads(body)["data"]} if status == 200 else set()
            missing += sum(1 for i in chunk if i not in found)
    return missing


def metric_values(port):
    """/metrics as {line name with labels: number}."""
    with socket.create_connection((HOST, port), timeout=5) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        _, _, body, _ = read_response_body(sock)
    values = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                values[name] = float(value)
            except ValueError:
                pass
    return values


def recovery(port, attempts=20, timeout=2.0):
    """Right after the hostile clients left: `attempts` fresh connections, one GET /health each."""
    ok, worst, failures = 0, 0.0, []
    for _ in range(attempts):
        t0 = time.perf_counter()
        try:
            with socket.create_connection((HOST, port), timeout=timeout) as s:
                s.sendall(HEALTH)
                status, _, _ = read_response(s)
            if status == 200:
                ok += 1
            else:
                failures.append(str(status))
        except (OSError, EOFError, ValueError, IndexError) as e:
            failures.append(type(e).__name__)
        worst = max(worst, time.perf_counter() - t0)
    return {"ok": ok, "attempts": attempts, "worst_ms": round(worst * 1000, 3), "failures": failures[:5]}


def settle(pid, baseline_fds, limit=8.0):
    """Waits until the server holds no more descriptors than at the start (lingering closes last 2 s)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        fds = open_fds(pid)
        if fds < 0 or fds <= baseline_fds:
            break
        time.sleep(0.1)
    return {"seconds": round(time.monotonic() - t0, 2), "fds": open_fds(pid)}


def baseline_fds(results):
    try:
        with open(results) as f:
            for line in f:
                rec = json.loads(line)
                if rec.get("phase") == "baseline":
                    return rec["fds_before"]
    except (OSError, ValueError, KeyError):
        pass
    return None


def write_record(results, record):
    with open(results, "a") as f:
        f.write(json.dumps(record) + "\n")
    p = record.get("probe") or {}
    print(f"  {record['phase']}: {record.get('load', '')}; /health p50 {p.get('p50_ms')} ms p99 {p.get('p99_ms')} ms "
          f"({p.get('n')} requests, {p.get('errors')} errors); RSS {record['rss_before_kib'] / 1024:.1f} -> "
          f"{record['rss_peak_kib'] / 1024:.1f} -> {record['rss_after_kib'] / 1024:.1f} MiB; "
          f"recovery {record['recovery']['ok']}/{record['recovery']['attempts']} worst {record['recovery']['worst_ms']} ms; "
          f"alive {record['alive']}", flush=True)


def finish_phase(args, record, sampler, fds_base):
    """Common tail of a phase: peak, recovery, settle, RSS after, liveness; then write the record."""
    record["rss_peak_kib"] = sampler.stop()
    record["fds_peak"] = sampler.peak_fds
    record["alive_during"] = not sampler.died
    if alive(args.pid):
        record["recovery"] = recovery(args.port)
        record["settle"] = settle(args.pid, fds_base)
    else:
        record["recovery"] = {"ok": 0, "attempts": 20, "worst_ms": 0, "failures": ["server gone"]}
        record["settle"] = {"seconds": 0, "fds": -1}
    record["rss_after_kib"] = rss_kib(args.pid)
    record["hwm_kib"] = (proc_status(args.pid) or {}).get("VmHWM", 0)
    record["alive"] = alive(args.pid)
    write_record(args.results, record)


# ---- phase 0: baseline ----------------------------------------------------------------------

def phase_baseline(args):
    record = {"phase": "baseline", "load": "none", "rss_before_kib": rss_kib(args.pid)}
    sampler = Sampler(args.pid)
    sampler.start()
    # The writer first, then reads on every reader connection: each connection opens SQLite's WAL
    # files on its first use and keeps them, which must not count as descriptors a phase left open.
    creates = create_probe(args.port, args.seconds, 0.005)
    creates["missing"] = missing_records(args.port, creates.pop("ids"))
    record["creates"] = creates
    readers = [threading.Thread(target=missing_records, args=(args.port, list(range(1, 2000)))) for _ in range(8)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    fds = record["fds_before"] = open_fds(args.pid)
    record["probe"] = probe(args.port, args.seconds, 0.005)
    finish_phase(args, record, sampler, fds)


# ---- phase 1: slowloris ---------------------------------------------------------------------

SLOW_HEAD = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slowloris: " + b"a" * 4096


async def slowloris(args):
    stop = asyncio.Event()
    st = {"open": 0, "opened": 0, "connect_errors": 0, "closed_by_server": 0, "408": 0, "other_status": {},
          "closed_without_answer": 0, "reset": 0, "bytes_sent": 0, "open_min": None, "open_max": 0}

    async def one(slot):
        await asyncio.sleep(slot * 0.001)   # ramp up over ~1 s
        while not stop.is_set():
            try:
                reader, writer = await asyncio.open_connection(HOST, args.port)
            except OSError:
                st["connect_errors"] += 1
                await asyncio.sleep(0.2)
                continue
            st["opened"] += 1
            st["open"] += 1
            i = 0
            try:
                while not stop.is_set():
                    writer.write(SLOW_HEAD[i:i + 1])
                    i = (i + 1) % len(SLOW_HEAD) or 30    # never reaches the end of the head
                    st["bytes_sent"] += 1
                    try:
                        data = await asyncio.wait_for(reader.read(4096), timeout=1.0)
                    except asyncio.TimeoutError:
                        continue
                    # The server spoke or closed: an answer (408 expected) and/or EOF.
                    st["closed_by_server"] += 1
                    if data:
                        try:
                            status = int(data.split(b" ", 2)[1])
                        except (IndexError, ValueError):
                            status = -1
                        if status == 408:
                            st["408"] += 1
                        else:
                            st["other_status"][str(status)] = st["other_status"].get(str(status), 0) + 1
                    else:
                        st["closed_without_answer"] += 1
                    break
            except (ConnectionError, OSError):
                st["closed_by_server"] += 1
                st["reset"] += 1
            finally:
                st["open"] -= 1
                writer.transport.abort()

    async def watch():
        while not stop.is_set():
            await asyncio.sleep(0.25)
            if holding:
                st["open_min"] = st["open"] if st["open_min"] is None else min(st["open_min"], st["open"])
                st["open_max"] = max(st["open_max"], st["open"])
                samples.append(st["open"])

    holding = False
    samples = []
    fds_base = baseline_fds(args.results) or open_fds(args.pid)
    record = {"phase": "slowloris", "rss_before_kib": rss_kib(args.pid)}
    sampler = Sampler(args.pid)
    sampler.start()
    tasks = [asyncio.create_task(one(i)) for i in range(args.conns)]
    watcher = asyncio.create_task(watch())
    t0 = time.monotonic()
    while st["open"] < args.conns and time.monotonic() - t0 < 10:
        await asyncio.sleep(0.05)
    record["ramp_s"] = round(time.monotonic() - t0, 2)
    holding = True
    hold_start = time.monotonic()
    probe_process = start_probe(args.port, args.seconds)
    while probe_process.poll() is None:
        await asyncio.sleep(0.1)
    record["probe"] = finish_probe(probe_process)
    record["hold_s"] = round(time.monotonic() - hold_start, 1)
    holding = False
    stop.set()
    await asyncio.gather(*tasks, watcher, return_exceptions=True)
    st["open_mean"] = round(sum(samples) / len(samples), 1) if samples else None
    record["slowloris"] = {k: v for k, v in st.items() if k != "open"}
    record["load"] = (f"{args.conns} conns x 1 B/s, {record['hold_s']} s, open mean {st['open_mean']} min {st['open_min']}: "
                      f"{st['opened']} opened, {st['closed_by_server']} closed by server ({st['408']} with 408)")
    finish_phase(args, record, sampler, fds_base)


# ---- phase 2: header and body floods --------------------------------------------------------

def flood_kinds():
    big_value = b"x" * (20 * 1024)
    count_head = (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  + b"".join(b"X-Count-%03d: 1\r\n" % i for i in range(150)) + b"\r\n")

    def header_lines():          # endless header lines, never the empty line
        yield b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        n = 0
        while n < 4096:          # up to ~4 MiB: the server must stop us at 16 KiB
            yield b"".join(b"X-Flood-%06d: %s\r\n" % (n + i, b"v" * 1000) for i in range(16))
            n += 16

    def header_big():            # one complete head of ~20 KiB (a single large field)
        yield b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + big_value + b"\r\n\r\n"

    def header_count():          # 150 fields in ~3 KiB (limit: 100 fields)
        yield count_head

    def body_length():           # Content-Length: 2 MiB, and the body streamed behind it
        yield (b"POST /api/posts:create HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % (2 * MiB))
        chunk = b"a" * 65536
        for _ in range(32):
            yield chunk

    def body_chunked():          # chunked, 64 KiB chunks, up to 4 MiB (limit: 1 MiB decoded)
        yield (b"POST /api/posts:create HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"10000\r\n" + b"a" * 65536 + b"\r\n"
        for _ in range(64):
            yield chunk

    return {"header-lines": (header_lines, 431), "header-16KiB+": (header_big, 431),
            "header-150-fields": (header_count, 431), "body-CL-2MiB": (body_length, 413),
            "body-chunked>1MiB": (body_chunked, 413)}


async def read_one_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    await reader.readexactly(length)
    return status


async def flood(args):
    kinds = flood_kinds()
    if args.kinds:
        kinds = {k: v for k, v in kinds.items() if k in args.kinds.split(",")}
    names = list(kinds)
    stats = {name: {"attempts": 0, "expected": kinds[name][1], "statuses": {}, "closed_after": 0, "errors": {}}
             for name in names}
    deadline = time.monotonic() + args.seconds

    async def attempt(name):
        make, _ = kinds[name]
        s = stats[name]
        s["attempts"] += 1
        try:
            reader, writer = await asyncio.open_connection(HOST, args.port)
        except OSError as e:
            s["errors"]["connect:" + type(e).__name__] = s["errors"].get("connect:" + type(e).__name__, 0) + 1
            await asyncio.sleep(0.05)
            return

        async def send():
            try:
                for piece in make():
                    writer.write(piece)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass

        sender = asyncio.create_task(send())
        outcome = None
        try:
            status = await asyncio.wait_for(read_one_response(reader), timeout=15)
            s["statuses"][str(status)] = s["statuses"].get(str(status), 0) + 1
            # After the error answer the server must close: EOF, not more data, within 5 s.
            try:
                while True:
                    more = await asyncio.wait_for(reader.read(65536), timeout=5)
                    if not more:
                        s["closed_after"] += 1
                        break
            except (asyncio.TimeoutError, ConnectionError, OSError):
                pass
        except asyncio.TimeoutError:
            outcome = "timeout (no answer in 15 s)"
        except asyncio.IncompleteReadError:
            outcome = "closed without answer"
        except (ConnectionError, OSError) as e:
            outcome = type(e).__name__
        except (ValueError, IndexError, asyncio.LimitOverrunError):
            outcome = "unparseable answer"
        if outcome:
            s["errors"][outcome] = s["errors"].get(outcome, 0) + 1
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        writer.transport.abort()

    async def worker(i):
        n = i
        while time.monotonic() < deadline:
            await attempt(names[n % len(names)])
            n += 1

    fds_base = baseline_fds(args.results) or open_fds(args.pid)
    record = {"phase": "flood", "rss_before_kib": rss_kib(args.pid)}
    sampler = Sampler(args.pid)
    sampler.start()
    probe_process = start_probe(args.port, args.seconds)
    t0 = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(args.conns)))
    record["flood_s"] = round(time.monotonic() - t0, 1)
    record["probe"] = finish_probe(probe_process)
    record["flood"] = stats
    total = sum(s["attempts"] for s in stats.values())
    record["load"] = f"{args.conns} concurrent for {record['flood_s']} s: {total} hostile requests"
    finish_phase(args, record, sampler, fds_base)


# ---- phase 3: idle keep-alive connections -------------------------------------------------

def phase_idle(args):
    fds_base = baseline_fds(args.results) or open_fds(args.pid)
    record = {"phase": "idle", "rss_before_kib": rss_kib(args.pid)}
    sampler = Sampler(args.pid)
    sampler.start()
    socks, failures = [], {}
    t0 = time.monotonic()
    for i in range(args.conns):
        try:
            s = socket.create_connection((HOST, args.port), timeout=5)
            s.sendall(HEALTH)
            status, close, _ = read_response(s)
            if status != 200 or close:
                failures[str(status)] = failures.get(str(status), 0) + 1
                s.close()
                continue
            socks.append(s)
        except (OSError, EOFError, ValueError, IndexError) as e:
            failures[type(e).__name__] = failures.get(type(e).__name__, 0) + 1
            if len(failures) and sum(failures.values()) > 50:
                break
    record["open_s"] = round(time.monotonic() - t0, 2)
    record["idle_open"] = len(socks)
    record["idle_failures"] = failures
    record["fds_with_idle"] = open_fds(args.pid)

    # The normal client while they are all open (its own connection is one more).
    record["probe"] = finish_probe(start_probe(args.port, args.seconds))

    # Still there and still answering after the hold: every idle socket has nothing to read and is
    # not closed; then a second request on 100 of them.
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.setblocking(True)
        s.settimeout(5)
    reused_ok = 0
    for s in socks[:100]:
        try:
            s.sendall(HEALTH)
            if read_response(s)[0] == 200:
                reused_ok += 1
        except (OSError, EOFError, ValueError, IndexError):
            pass
    record["idle_closed_by_server"] = closed
    record["idle_reused_ok"] = reused_ok

    # The connection limit: open more, one by one, until the server answers 503 on accept. Each
    # waits 0.3 s for an unsolicited answer before sending its request, so a 503 is read cleanly.
    extras, limit = [], {"admitted": 0, "first_503_at": None, "sequence": []}
    for k in range(40):
        try:
            s = socket.create_connection((HOST, args.port), timeout=5)
        except OSError as e:
            limit["sequence"].append(type(e).__name__)
            continue
        s.settimeout(0.3)
        try:
            status, _, _ = read_response(s)          # the server spoke first: the 503
        except socket.timeout:
            s.settimeout(5)
            try:
                s.sendall(HEALTH)
                status, _, _ = read_response(s)
            except (OSError, EOFError, ValueError, IndexError) as e:
                status = type(e).__name__
        except (OSError, EOFError, ValueError, IndexError) as e:
            status = type(e).__name__
        limit["sequence"].append(status)
        if status == 200:
            limit["admitted"] += 1
            extras.append(s)
        else:
            s.close()
            if limit["first_503_at"] is None and status == 503:
                limit["first_503_at"] = len(socks) + limit["admitted"] + 1
            if len(limit["sequence"]) - limit["admitted"] >= 3:
                break
    # And a client that sends its request at once, as curl does, while the server is full.
    immediate = {}
    for _ in range(5):
        try:
            with socket.create_connection((HOST, args.port), timeout=5) as s:
                s.sendall(HEALTH)
                status = str(read_response(s)[0])
        except (OSError, EOFError, ValueError, IndexError) as e:
            status = type(e).__name__
        immediate[status] = immediate.get(status, 0) + 1
    limit["immediate_request_when_full"] = immediate
    limit["open_when_full"] = len(socks) + limit["admitted"]
    limit["fds_when_full"] = open_fds(args.pid)
    record["limit"] = limit
    record["load"] = (f"{len(socks)} idle keep-alive conns (opened in {record['open_s']} s), then "
                      f"+{limit['admitted']} until 503")
    for s in socks + extras:
        s.close()
    finish_phase(args, record, sampler, fds_base)


async def keep_connected(port, stop, errors, session):
    """Runs `session(reader, writer)` on a connection until `stop`, reconnecting when it ends;
    connect and session failures are counted in `errors` by exception name."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError as e:
            errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
            await asyncio.sleep(0.05)
            continue
        try:
            await session(reader, writer)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError, OSError, ValueError, IndexError) as e:
            errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
        finally:
            writer.transport.abort()


# ---- phase 4: sign-in flood ----------------------------------------------------------------

async def signin_flood(args):
    """`conns` clients sign in with made-up accounts as fast as they are answered (each on its own
    keep-alive connection), beside the normal reader and writer."""
    stop = asyncio.Event()
    statuses, errors = {}, {}

    async def one(i):
        n = 0

        async def session(reader, writer):
            nonlocal n
            while not stop.is_set():
                n += 1
                body = json.dumps({"account": f"nobody-{i}-{n}", "password": "guess"}).encode()
                writer.write(b"POST /api/auth:signIn HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(body) + body)
                status = await asyncio.wait_for(read_one_response(reader), timeout=30)
                statuses[str(status)] = statuses.get(str(status), 0) + 1

        await keep_connected(args.port, stop, errors, session)

    fds_base = baseline_fds(args.results) or open_fds(args.pid)
    record = {"phase": "signin", "rss_before_kib": rss_kib(args.pid)}
    sampler = Sampler(args.pid)
    sampler.start()
    tasks = [asyncio.create_task(one(i)) for i in range(args.conns)]
    await asyncio.sleep(0.5)   # the flood is running before the normal clients start
    probe_process = start_probe(args.port, args.seconds)
    create_process = start_probe(args.port, args.seconds, command="createprobe")
    while probe_process.poll() is None or create_process.poll() is None:
        await asyncio.sleep(0.1)
    record["probe"] = finish_probe(probe_process)
    creates = finish_probe(create_process)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    creates["missing"] = missing_records(args.port, creates.pop("ids"))
    record["creates"] = creates
    record["signin"] = {"statuses": statuses, "errors": errors}
    total = sum(statuses.values())
    record["load"] = (f"{args.conns} conns signing in with unknown accounts: {total} answered, "
                      + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))
    finish_phase(args, record, sampler, fds_base)


# ---- phase 5: write overload ----------------------------------------------------------------

async def write_overload(args):
    """More writers than the single writer can commit: `conns` connections, each keeping `depth`
    pipelined creates outstanding, beside the normal reader and writer."""
    stop = asyncio.Event()
    statuses, errors, ids = {}, {}, []

    async def read_with_body(reader):
        head = await reader.readuntil(b"\r\n\r\n")
        status, length = int(head.split(b" ", 2)[1]), 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        return status, await reader.readexactly(length)

    async def one(i):
        n = 0
        await asyncio.sleep(i * 0.002)   # ramp up over ~1 s

        async def session(reader, writer):
            nonlocal n
            while not stop.is_set():
                batch = []
                for _ in range(args.depth):
                    n += 1
                    batch.append(create_request(f"overload {i}-{n}"))
                writer.write(b"".join(batch))
                for _ in batch:   # every answer is read, so each 2xx is known
                    status, body = await asyncio.wait_for(read_with_body(reader), timeout=60)
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
                    if 200 <= status < 300:
                        ids.append(created_id(body))

        await keep_connected(args.port, stop, errors, session)

    fds_base = baseline_fds(args.results) or open_fds(args.pid)
    record = {"phase": "overload", "rss_before_kib": rss_kib(args.pid)}
    before = metric_values(args.port)
    sampler = Sampler(args.pid)
    sampler.start()
    tasks = [asyncio.create_task(one(i)) for i in range(args.conns)]
    await asyncio.sleep(1.5)   # ramped up
    probe_process = start_probe(args.port, args.seconds)
    create_process = start_probe(args.port, args.seconds, command="createprobe")
    peak_depth = 0
    while probe_process.poll() is None or create_process.poll() is None:
        await asyncio.sleep(0.25)
        try:
            depth = metric_values(args.port).get("triggerbase_write_queue_depth", 0)
        except (OSError, EOFError, ValueError, IndexError):
            depth = 0
        peak_depth = max(peak_depth, int(depth))
    record["probe"] = finish_probe(probe_process)
    creates = finish_probe(create_process)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    after = metric_values(args.port)
    shed = {reason: int(after.get(f'triggerbase_requests_shed_total{{reason="{reason}"}}', 0)
                        - before.get(f'triggerbase_requests_shed_total{{reason="{reason}"}}', 0))
            for reason in ("write_backlog", "requests_in_flight")}
    creates["missing"] = missing_records(args.port, creates.pop("ids"))
    record["creates"] = creates
    record["overload"] = {"statuses": statuses, "errors": errors, "acknowledged": len(ids),
                          "missing": missing_records(args.port, ids), "shed": shed, "peak_queue_depth": peak_depth}
    record["load"] = (f"{args.conns} conns x {args.depth} pipelined creates: {len(ids)} acknowledged, "
                      f"{statuses.get('503', 0)} shed (503), writer queue peak {peak_depth}")
    finish_phase(args, record, sampler, fds_base)


# ---- report ---------------------------------------------------------------------------------

def report(args):
    records = {}
    with open(args.results) as f:
        for line in f:
            rec = json.loads(line)
            records[rec["phase"]] = rec
    p99_limit, rss_limit, recovery_ms = args.p99_ms, args.rss_limit_mib, args.recovery_ms
    checks = []   # (ok, text)

    def check(ok, text):
        checks.append((bool(ok), text))

    mib = lambda kib: f"{kib / 1024:.1f}"
    fmt = lambda v: "-" if v is None else f"{v:.2f}"
    rows = []
    for phase in args.phases.split():
        rec = records.get(phase)
        if rec is None:
            check(False, f"{phase}: did not run (the phase aborted; see above)")
            rows.append((phase, "did not run", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "FAIL"))
            continue
        p, r = rec.get("probe", {}), rec["recovery"]
        phase_ok = []
        phase_ok.append(rec["alive"] and rec.get("alive_during", True))
        check(phase_ok[-1], f"{phase}: server alive during and after")
        rec_ok = r["ok"] == r["attempts"] and r["worst_ms"] < recovery_ms
        phase_ok.append(rec_ok)
        check(rec_ok, f"{phase}: recovery {r['ok']}/{r['attempts']} GET /health 200 on fresh connections, "
                      f"worst {r['worst_ms']:.1f} ms (< {recovery_ms} ms)" + (f" failures {r['failures']}" if r['failures'] else ""))
        base_fds = records.get("baseline", {}).get("fds_before")
        st = rec["settle"]
        ok = base_fds is not None and 0 <= st["fds"] <= base_fds
        phase_ok.append(ok)
        check(ok, f"{phase}: server descriptors back to {st['fds']} (baseline {base_fds}) {st['seconds']:.1f} s after the clients left")
        rss_ok = rec["rss_peak_kib"] / 1024 < rss_limit
        phase_ok.append(rss_ok)
        check(rss_ok, f"{phase}: peak VmRSS {mib(rec['rss_peak_kib'])} MiB (< {rss_limit} MiB)")
        if phase == "slowloris":
            ok = p.get("p99_ms") is not None and p["p99_ms"] < p99_limit and p.get("n", 0) > 0 and p.get("errors", 1) == 0
            phase_ok.append(ok)
            check(ok, f"slowloris: /health p99 {p.get('p99_ms')} ms (< {p99_limit} ms), {p.get('errors')} errors over {p.get('n')} requests")
            sl = rec["slowloris"]
            ok = not sl["other_status"]
            phase_ok.append(ok)
            check(ok, f"slowloris: {sl['opened']} opened, open at once: mean {sl['open_mean']}, min {sl['open_min']}, max {sl['open_max']} "
                      f"(sampled every 0.25 s); server closed {sl['closed_by_server']} slow heads: {sl['408']} with 408, "
                      f"{sl['closed_without_answer']} silently, {sl['reset']} reset, other statuses {sl['other_status'] or 'none'}")
        if phase == "flood":
            for name, s in rec["flood"].items():
                got = sum(s["statuses"].values())
                wrong = {k: v for k, v in s["statuses"].items() if k != str(s["expected"])}
                ok = got > 0 and not wrong and not s["errors"] and s["closed_after"] == got
                phase_ok.append(ok)
                check(ok, f"flood {name}: {s['attempts']} sent, statuses {s['statuses']} (expect {s['expected']}), "
                          f"closed after the answer {s['closed_after']}/{got}" + (f", errors {s['errors']}" if s["errors"] else ""))
        if phase == "idle":
            lim = rec["limit"]
            ok = rec["idle_open"] == args.idle_conns and not rec["idle_failures"]
            phase_ok.append(ok)
            check(ok, f"idle: {rec['idle_open']}/{args.idle_conns} keep-alive connections opened and answered"
                      + (f", failures {rec['idle_failures']}" if rec["idle_failures"] else ""))
            ok = rec["idle_closed_by_server"] == 0 and rec["idle_reused_ok"] == min(100, rec["idle_open"])
            phase_ok.append(ok)
            check(ok, f"idle: after the hold {rec['idle_closed_by_server']} closed by the server, "
                      f"{rec['idle_reused_ok']}/{min(100, rec['idle_open'])} answered a second request")
            text = (f"idle: connections admitted up to {lim['open_when_full']}, connection #{lim['first_503_at']} got 503 "
                    f"(expect #{args.max_connections + 1}); a client sending at once when full got {lim['immediate_request_when_full']}")
            if rec["idle_open"] + 30 >= args.max_connections:
                ok = lim["first_503_at"] == args.max_connections + 1
                phase_ok.append(ok)
                check(ok, text)
            else:
                check(True, text + " (not checked: too few idle connections to reach the limit)")
            if p.get("p99_ms") is not None:
                check(True, f"idle: /health p99 {p['p99_ms']} ms with {rec['idle_open']} idle connections open (informational)")
        c = rec.get("creates")
        if c is not None:
            ok = c.get("missing", 1) == 0 and c.get("errors", 1) == 0
            phase_ok.append(ok)
            check(ok, f"{phase}: normal writer {c.get('n')} creates, statuses {c.get('statuses')}, create p50 {c.get('p50_ms')} ms "
                      f"p99 {c.get('p99_ms')} ms; {c.get('missing')} acknowledged records missing")
        if phase == "signin":
            ok = c is not None and c.get("p99_ms") is not None and c["p99_ms"] < args.create_p99_ms and c.get("statuses", {}).keys() <= {"200"}
            phase_ok.append(ok)
            check(ok, f"signin: every create of the normal writer 200 and p99 {c and c.get('p99_ms')} ms (< {args.create_p99_ms} ms) "
                      f"while sign-ins flood")
            st = rec["signin"]["statuses"]
            ok = st.get("429", 0) > 0 and set(st) <= {"401", "429"}
            phase_ok.append(ok)
            check(ok, f"signin: the flood got 429 TOO_MANY_REQUESTS ({st.get('429', 0)}) and 401 ({st.get('401', 0)}), nothing else: {st}")
        if phase == "overload":
            o = rec["overload"]
            ok = o["statuses"].get("503", 0) > 0 and o["shed"]["write_backlog"] > 0 and set(o["statuses"]) <= {"200", "503"}
            phase_ok.append(ok)
            check(ok, f"overload: writes shed with 503: {o['statuses']}, /metrics shed {o['shed']}, writer queue peak {o['peak_queue_depth']}")
            ok = o["missing"] == 0 and o["acknowledged"] > 0
            phase_ok.append(ok)
            check(ok, f"overload: {o['acknowledged']} acknowledged creates, {o['missing']} missing afterwards"
                      + (f"; client errors {o['errors']}" if o["errors"] else ""))
            ok = p.get("errors", 1) == 0
            phase_ok.append(ok)
            check(ok, f"overload: reads kept being served: /health {p.get('n')} requests, {p.get('errors')} errors, p99 {p.get('p99_ms')} ms")
        if phase == "flood" and p.get("p99_ms") is not None:
            check(True, f"flood: /health p99 {p['p99_ms']} ms, {p.get('errors')} errors, during the flood (informational)")
        rows.append((phase, rec.get("load", ""), str(p.get("n", "-")), fmt(p.get("p50_ms")), fmt(p.get("p99_ms")),
                     str(p.get("errors", "-")), fmt((c or {}).get("p50_ms")), fmt((c or {}).get("p99_ms")), str(rec.get("fds_peak", "-")), mib(rec["rss_before_kib"]), mib(rec["rss_peak_kib"]),
                     mib(rec["rss_after_kib"]), f"{r['ok']}/{r['attempts']} {r['worst_ms']:.1f}ms",
                     "ok" if all(phase_ok) else "FAIL"))

    final = proc_status(args.pid)
    headers = ("phase", "hostile load", "/health n", "p50 ms", "p99 ms", "errors", "create p50", "create p99", "fds peak",
               "RSS before", "peak", "after MiB", "recovery", "result")
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    widths[1] = min(widths[1], 120)
    line = lambda cells: " | ".join(c[:widths[i]].ljust(widths[i]) if i in (0, 1, 13) else c.rjust(widths[i])
                                    for i, c in enumerate(cells))
    print()
    print("== summary")
    print(line(headers))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    print()
    if final:
        print(f"server at the end: VmRSS {mib(final['VmRSS'])} MiB, VmHWM (peak over the whole run) {mib(final['VmHWM'])} MiB, alive")
    else:
        check(False, "server alive at the end")
        print("server at the end: GONE")
    for ok, text in checks:
        print(("  ok    " if ok else "  FAIL  ") + text)
    failed = [t for ok, t in checks if not ok]
    print()
    print("RESULT: " + ("all checks passed" if not failed else f"{len(failed)} check(s) failed"))
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["baseline", "slowloris", "flood", "idle", "signin", "overload", "probe", "createprobe", "report"])
    ap.add_argument("--port", type=int)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--results")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--interval", type=float, default=0.005)
    ap.add_argument("--conns", type=int, default=1000)
    ap.add_argument("--p99-ms", type=float, default=50)
    ap.add_argument("--rss-limit-mib", type=float, default=512)
    ap.add_argument("--recovery-ms", type=float, default=500)
    ap.add_argument("--idle-conns", type=int, default=9990)
    ap.add_argument("--phases", default="baseline slowloris flood idle signin overload", help="report: the phases that ran")
    ap.add_argument("--depth", type=int, default=8, help="overload: pipelined creates per connection")
    ap.add_argument("--create-p99-ms", type=float, default=50, help="signin: the normal writer's p99 must stay below this")
    ap.add_argument("--max-connections", type=int, default=10000)
    ap.add_argument("--kinds", help="flood: only these kinds, comma-separated (header-lines, header-16KiB+, "
                                    "header-150-fields, body-CL-2MiB, body-chunked>1MiB)")
    args = ap.parse_args()
    raise_fd_limit()
    if args.command == "probe":
        print(json.dumps(probe(args.port, args.seconds, args.interval)))
    elif args.command == "createprobe":
        print(json.dumps(create_probe(args.port, args.seconds, args.interval)))
    elif args.command == "report":
        sys.exit(report(args))
    elif args.command == "baseline":
        phase_baseline(args)
    elif args.command == "slowloris":
        asyncio.run(slowloris(args))
    elif args.command == "flood":
        asyncio.run(flood(args))
    elif args.command == "idle":
        phase_idle(args)
    elif args.command == "signin":
        asyncio.run(signin_flood(args))
    elif args.command == "overload":
        asyncio.run(write_overload(args))


if __name__ == "__main__":
    main()
