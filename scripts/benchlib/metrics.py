"""Flat numbers of one run and medians per point."""
import statistics

from .exitwindow import RATE_KEY, per_operation

# KVM's debugfs counters shown per operation (exits includes every other kind)
KVM_COUNTERS = ["exits", "hypercalls", "io_exits", "mmio_exits", "halt_exits", "irq_exits"]
NO_VM = ("native", "iperf3")


def kvm_per_op(rec, r):
    """{counter: per operation} from KVM's debugfs counters, or None.  The vmm's cover
    its measured period (read at the guest's window marks; result folders from before
    the marks have a sampled window, kvm_window_s); a peer's cover its whole run
    (connection set-up included), over the operations of its measured period."""
    if rec.get("config") in NO_VM:
        return {k: 0.0 for k in KVM_COUNTERS} if rec.get("result") else None
    deltas = rec.get("kvm_exits")
    rate = r.get(RATE_KEY.get(rec.get("bench"), ""))
    if not deltas or not rate:
        return None
    if rec.get("kvm_window_s"):
        return per_operation(deltas, rec["kvm_window_s"], rate)
    return per_operation(deltas, r.get("seconds"), rate)


def metrics(rec):
    """Flat numbers of one run (None where not applicable)."""
    r, v = rec["result"] or {}, rec["vmm_stats"]
    m = {
        "mb_per_s": r.get("mb_per_s"), "msgs_per_s": r.get("msgs_per_s"),
        "rtt_per_s": r.get("rtt_per_s"), "conn_per_s": r.get("conn_per_s"),
        "lat_p50_us": None, "lat_p90_us": None, "lat_p99_us": None, "lat_p999_us": None,
        "bytes": r.get("bytes"),
    }
    for k in ("p50", "p90", "p99", "p999"):
        if r.get(f"lat_{k}_ns") is not None:
            m[f"lat_{k}_us"] = r[f"lat_{k}_ns"] / 1000.0
    t = r.get("transport")
    m["guest_requests"] = t["requests"] if t else None
    m["guest_doorbells"] = t["doorbells"] if t else None
    m["guest_doorbells_per_request"] = (t["doorbells"] / t["requests"]
                                        if t and t["requests"] else None)
    # a SUBMIT|WAIT doorbell counts in both
    m["guest_submit_per_request"] = (t["doorbells_submit"] / t["requests"]
                                     if t and t["requests"] else None)
    m["guest_wait_per_request"] = (t["doorbells_wait"] / t["requests"]
                                   if t and t["requests"] else None)
    if v:
        h = v.get("hostnet") or {}
        exits = v.get("exits", {})
        db = v.get("hypercall_doorbells", 0) + v.get("pio_doorbells", 0)
        req = h.get("requests", 0)
        m.update({
            "exits_total": exits.get("total"), "serial_bytes": v.get("serial_bytes"),
            "doorbell_exits": db, "requests": req, "batches": h.get("batches"),
            "bytes_copied": h.get("bytes_copied"), "bytes_sent": h.get("bytes_sent"),
            "bytes_received": h.get("bytes_received"),
            "exits_per_request": db / req if req else None,
            "requests_per_batch": req / h["batches"] if h.get("batches") else None,
        })
    else:
        for k in ("exits_total", "serial_bytes", "doorbell_exits", "requests", "batches",
                  "bytes_copied", "bytes_sent", "bytes_received", "exits_per_request",
                  "requests_per_batch"):
            m[k] = None
    kvm = kvm_per_op(rec, r) or {}
    for k in KVM_COUNTERS:
        m[f"kvm_{k}_per_op"] = kvm.get(k)
    return m


METRIC_KEYS = ["mb_per_s", "msgs_per_s", "rtt_per_s", "conn_per_s", "lat_p50_us",
               "lat_p90_us", "lat_p99_us", "lat_p999_us", "bytes", "exits_total", "serial_bytes",
               "doorbell_exits", "requests", "batches", "bytes_copied", "bytes_sent",
               "bytes_received", "exits_per_request", "requests_per_batch", "guest_requests",
               "guest_doorbells", "guest_doorbells_per_request", "guest_submit_per_request",
               "guest_wait_per_request"] + [f"kvm_{k}_per_op" for k in KVM_COUNTERS]
PRIMARY = {"stream": "mb_per_s", "stream-nagle": "mb_per_s", "rr": "rtt_per_s",
           "crr": "conn_per_s"}


def median_points(records):
    groups = {}
    for rec in records:
        groups.setdefault((rec["bench"], rec["size"], rec["config"]), []).append(rec)
    out = {}
    for key, recs in groups.items():
        good = [metrics(r) for r in recs if r["ok"]]
        row = {"bench": key[0], "size": key[1], "config": key[2], "runs": len(recs),
               "ok_runs": len(good)}
        for k in METRIC_KEYS:
            vals = [g[k] for g in good if g[k] is not None]
            row[k] = statistics.median(vals) if vals else None
        prim = [g[PRIMARY[key[0]]] for g in good if g[PRIMARY[key[0]]] is not None]
        row["spread"] = ((max(prim) - min(prim)) / statistics.median(prim)
                         if len(prim) > 1 and statistics.median(prim) else None)
        out[key] = row
    return out


