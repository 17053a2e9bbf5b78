/**
 * How a replay's process is judged gone (src/replay/dead-owners.ts): by its pid on this host,
 * by its heartbeat on any host, always on the embedded registry (one process at a time).
 */
import { describe, expect, it } from "vitest";
import { ownerGone, type OrphanRow, type OwnerJudge } from "../../src/replay/index.js";

const self = { id: "c-self", host: "here", pid: 100 };
const judge = (over: Partial<OwnerJudge> = {}): OwnerJudge => ({
  self,
  singleProcess: false,
  alive: (pid) => pid === 200,
  staleSeconds: 30,
  ...over,
});
const row = (over: Partial<OrphanRow>): OrphanRow => ({
  id: "r-1",
  worker_id: "c-other",
  worker_host: "here",
  worker_pid: 200,
  submitted_via: null,
  stale: false,
  ...over,
});

describe("ownerGone", () => {
  it("never judges the asker's own rows", () => {
    expect(
      ownerGone(row({ worker_id: "c-self", worker_pid: 100 }), judge({ singleProcess: true })),
    ).toBeUndefined();
  });
  it("on this host: gone when the pid is (or is the asker's, under another id: a reused pid)", () => {
    expect(ownerGone(row({}), judge())).toBeUndefined();
    expect(ownerGone(row({ worker_pid: 300 }), judge())).toBe("owner process 300 on host here is gone");
    expect(ownerGone(row({ worker_pid: 100 }), judge())).toBe("owner process 100 on host here is gone");
  });
  it("on another host: only by a heartbeat older than staleSeconds, whatever its pid", () => {
    expect(ownerGone(row({ worker_host: "there", worker_pid: 300 }), judge())).toBeUndefined();
    expect(ownerGone(row({ worker_host: "there", stale: true }), judge())).toBe(
      "owner process 200 on host there is gone (no heartbeat for over 30 s)",
    );
  });
  it("rows written before owners were recorded are judged by their (missing) heartbeat", () => {
    expect(
      ownerGone(row({ worker_id: null, worker_host: null, worker_pid: null, stale: true }), judge()),
    ).toBe("owner process (none recorded) on host (none recorded) is gone (no heartbeat for over 30 s)");
  });
  it("on the embedded registry every other owner is gone: the asker holds it", () => {
    expect(ownerGone(row({ worker_host: "there" }), judge({ singleProcess: true }))).toBe(
      "owner process 200 on host there is gone (the embedded registry is held by process 100 now)",
    );
  });
});
