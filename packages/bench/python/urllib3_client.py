"""The urllib3 client of httpool's benchmark suite.

Reads one job (the JSON of packages/bench/src/protocol.ts's `Job`) as its only argument,
runs its warm-up and measured phases with `concurrency` threads sharing one urllib3
PoolManager (or ProxyManager), and prints one `Measurement` as JSON. Every phase stops at
its request count or its time limit, whichever comes first.
"""

import itertools
import json
import math
import resource
import sys
import threading
import time

import urllib3

REQUEST_BODY_BYTE = 0x71


class Recorder:
    def __init__(self, bounds, expected_status, expected_length):
        self.limit = bounds["requests"]
        self.started_at = time.perf_counter()
        self.deadline = self.started_at + bounds["millis"] / 1000.0
        self.counter = itertools.count()
        self.lock = threading.Lock()
        self.latencies = []
        self.wrong = 0
        self.first_wrong = None
        self.bytes = 0
        self.error = None
        self.expected_status = expected_status
        self.expected_length = expected_length

    def claim(self):
        if self.error is not None or time.perf_counter() >= self.deadline:
            return -1
        index = next(self.counter)  # atomic under the GIL
        return index if index < self.limit else -1

    def done(self, start, status, length):
        latency = (time.perf_counter() - start) * 1000.0
        with self.lock:
            self.latencies.append(latency)
            self.bytes += length
            if status != self.expected_status or length != self.expected_length:
                self.wrong += 1
                if self.first_wrong is None:
                    self.first_wrong = "status %d and %d body bytes, expected %d and %d" % (
                        status,
                        length,
                        self.expected_status,
                        self.expected_length,
                    )


def make_manager(job):
    kw = {"num_pools": job["numPools"], "maxsize": job["concurrency"]}
    if job["caPem"] is not None:
        kw["ca_cert_data"] = job["caPem"]
    if job["proxy"] is not None and job["proxy"].startswith("socks"):
        try:
            from urllib3.contrib.socks import SOCKSProxyManager
        except ImportError:
            # PySocks from Debian's python3-socks, for an interpreter that is not Debian's.
            sys.path.append("/usr/lib/python3/dist-packages")
            from urllib3.contrib.socks import SOCKSProxyManager
        return SOCKSProxyManager(job["proxy"], **kw)
    if job["proxy"] is not None:
        return urllib3.ProxyManager(job["proxy"], **kw)
    return urllib3.PoolManager(**kw)


def make_request(job, manager):
    urls = [origin + job["path"] for origin in job["origins"]]
    count = len(urls)
    method = job["method"]
    body = bytes([REQUEST_BODY_BYTE]) * job["requestBodySize"] if job["requestBodySize"] > 0 else None

    if job["stream"]:

        def request(index):
            response = manager.request(method, urls[index % count], body=body, preload_content=False)
            length = 0
            for chunk in response.stream(65536):
                length += len(chunk)
            response.release_conn()
            return response.status, length

        return request

    def request(index):
        response = manager.request(method, urls[index % count], body=body)
        return response.status, len(response.data)

    return request


def phase(job, bounds, request):
    recorder = Recorder(bounds, job["expectedStatus"], job["expectedLength"])

    def worker():
        try:
            index = recorder.claim()
            while index >= 0:
                start = time.perf_counter()
                status, length = request(index)
                recorder.done(start, status, length)
                index = recorder.claim()
        except Exception as error:  # noqa: BLE001 - reported as the run's failure
            recorder.error = "%s: %s" % (type(error).__name__, error)

    threads = [threading.Thread(target=worker) for _ in range(job["concurrency"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return recorder


def quantile(values, q):
    if not values:
        return 0
    rank = min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))
    return values[rank]


def failed(error):
    return {
        "ok": False,
        "warmupMs": 0,
        "error": error,
        "requests": 0,
        "wrong": 0,
        "elapsedMs": 0,
        "reqPerSec": 0,
        "bytesPerSec": 0,
        "p50Ms": 0,
        "p99Ms": 0,
        "cpuUsPerReq": 0,
        "serverCpuUsPerReq": None,
        "maxRssKiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "processCpuMs": time.process_time() * 1000.0,
    }


def warm_up(job, request):
    """Slices until the throughput settles, as load.ts's warmUp; returns (milliseconds, error)."""
    warm = job["warmup"]
    started = time.perf_counter()
    rates = []
    requests = 0
    for _ in range(1000):
        spent = (time.perf_counter() - started) * 1000.0
        window = warm["window"]
        settled = (
            requests >= warm.get("minRequests", 0)
            and len(rates) >= 2 * window
            and sum(rates[-window:]) <= (1 + warm["settle"]) * sum(rates[-2 * window : -window])
        )
        if spent >= warm["maxMillis"] or requests >= warm["requests"] or (spent >= warm["minMillis"] and settled):
            break
        bounds = {"requests": warm["requests"] - requests, "millis": warm["sliceMillis"]}
        recorder = phase(job, bounds, request)
        if recorder.error is not None:
            return 0, "warm-up: " + recorder.error
        if recorder.wrong > 0:
            return 0, "warm-up: %d wrong response(s), first: %s" % (recorder.wrong, recorder.first_wrong)
        done = len(recorder.latencies)
        requests += done
        rates.append(done / max(1.0, (time.perf_counter() - recorder.started_at) * 1000.0))
    return (time.perf_counter() - started) * 1000.0, None


def process_ticks(pid):
    """CPU ticks (10 ms) a process has used, from /proc/<pid>/stat; None without /proc or pid."""
    if pid is None:
        return None
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split(" ")
    return int(fields[11]) + int(fields[12])


def run(job):
    manager = make_manager(job)
    request = make_request(job, manager)
    warmup_ms, error = warm_up(job, request)
    if error is not None:
        return failed(error)
    server_before = process_ticks(job.get("serverPid"))
    cpu_before = time.process_time()
    recorder = phase(job, job["measure"], request)
    elapsed_ms = (time.perf_counter() - recorder.started_at) * 1000.0
    cpu_us = (time.process_time() - cpu_before) * 1e6
    server_after = process_ticks(job.get("serverPid"))
    manager.clear()
    if recorder.error is not None:
        return failed(recorder.error)
    latencies = sorted(recorder.latencies)
    requests = len(latencies)
    error = None
    if recorder.wrong > 0:
        error = "%d wrong response(s), first: %s" % (recorder.wrong, recorder.first_wrong)
    elif requests == 0:
        error = "no request completed"
    return {
        "ok": error is None,
        "warmupMs": warmup_ms,
        "error": error,
        "requests": requests,
        "wrong": recorder.wrong,
        "elapsedMs": elapsed_ms,
        "reqPerSec": requests * 1000.0 / elapsed_ms,
        "bytesPerSec": recorder.bytes * 1000.0 / elapsed_ms,
        "p50Ms": quantile(latencies, 0.5),
        "p99Ms": quantile(latencies, 0.99),
        "cpuUsPerReq": cpu_us / max(1, requests),
        "serverCpuUsPerReq": None
        if server_before is None or server_after is None
        else (server_after - server_before) * 10000.0 / max(1, requests),
        "maxRssKiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "processCpuMs": time.process_time() * 1000.0,
    }


def main():
    job = json.loads(sys.argv[1])
    try:
        result = run(job)
    except Exception as error:  # noqa: BLE001 - reported as the run's failure
        result = failed("%s: %s" % (type(error).__name__, error))
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
