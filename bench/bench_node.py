"""Benchmark: the DICOM node under a push of 200 images from 4 concurrent associations.

Usage: python bench/bench_node.py [--n 200] [--associations 4] [--normals-only]

A real Orthanc (the Debian package) is started on free loopback ports as the PACS the results
go to; a node (``radiai_core.node.Node``, as ``radiai listen`` runs it, with a fresh data
folder) receives the images, generated from the pediatric samples in tests/data (Kermany) with
new UIDs, 10 per study. Printed: how long the push took (images kept on disk per second), how
long until every image was analysed (images received and analysed per second, from the first
byte to the last analysis), and until every SR and capture was in Orthanc; then what was kept,
analysed and delivered (all must be equal to the images pushed, or the run fails).

``--normals-only`` pushes only the normal radiographs: a negative call has no heat map, so
that run measures the node without the evidence's deletion test (which costs about 1 s per
positive image on this CPU).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the Orthanc helper and the sample generator live with the tests

from pydicom.uid import generate_uid  # noqa: E402

from tests.node.test_node import KERMANY_IMAGES, child_dataset  # noqa: E402
from tests.orthanc import ORTHANC, Orthanc  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--associations", type=int, default=4)
    ap.add_argument("--normals-only", action="store_true")
    args = ap.parse_args()
    if ORTHANC is None:
        print("Orthanc is not installed (apt-get install orthanc)")
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="bench-node-"))
    os.environ["RADIAI_DATA_DIR"] = str(tmp / "data")
    from radiai_core.node import Node, NodeConfig, Peer, send_datasets
    from radiai_core.results.history import History

    pool = [p for p in KERMANY_IMAGES if not args.normals_only or "NORMAL" in p.name]
    studies = [generate_uid() for _ in range((args.n + 9) // 10)]
    images = [child_dataset(pool[i % len(pool)], studies[i // 10], patient=f"P{i // 10}",
                            number=i) for i in range(args.n)]
    orthanc = Orthanc(tmp / "orthanc").start()
    try:
        peer = Peer("ORTHANC", "127.0.0.1", orthanc.dicom_port)
        with Node(NodeConfig(port=0, results_to=peer)) as node:
            me = Peer("RADIAI", "127.0.0.1", node.port)
            k = args.associations
            statuses: list[list] = [[] for _ in range(k)]
            threads = [threading.Thread(target=lambda j=j: statuses[j].extend(
                send_datasets(me, f"MODALITY{j}", images[j::k]))) for j in range(k)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            t_push = time.perf_counter() - t0
            while node.stats.analysed < args.n and time.perf_counter() - t0 < 1800:
                time.sleep(0.05)
            t_analysed = time.perf_counter() - t0
            idle = node.wait_idle(1800)
            t_delivered = time.perf_counter() - t0
        ok = sum(s == 0 for batch in statuses for s in batch)
        with History() as h:
            analyses, sent = len(h.analyses()), sum(1 for d in h.deliveries() if d.sent_at)
        in_pacs = orthanc.count()
    finally:
        orthanc.kill()
    s = node.stats
    kind = "normals only" if args.normals_only else "mixed: normal, bacterial, viral"
    print(f"{args.n} images ({kind}), {args.associations} concurrent associations, "
          f"{os.cpu_count()} CPU cores")
    print(f"push: {t_push:.1f} s, {args.n / t_push:.1f} images/s kept on disk and "
          "acknowledged")
    print(f"received and analysed: {t_analysed:.1f} s, {args.n / t_analysed:.2f} images/s")
    print(f"results in the PACS: {t_delivered:.1f} s, {args.n / t_delivered:.2f} images/s "
          f"answered (SR + capture each)")
    print(f"acknowledged {ok}, kept {len(node.inbox.files())}, analysed {s.analysed}, "
          f"history {analyses}, delivered {s.delivered} (history: {sent} sent), "
          f"in Orthanc {in_pacs}; lost {args.n - min(ok, len(node.inbox.files()), analyses)}")
    good = (idle and ok == len(node.inbox.files()) == s.analysed == analyses == args.n
            and s.delivered == sent == in_pacs == 2 * args.n)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
