/** Facts about the services tests need; used by global setup and by tests that restart them. */
import { execFileSync } from "node:child_process";

export const ADMIN_PG_URL =
  process.env.REPLAY_TEST_PG_URL ?? "postgres:///postgres?host=/var/run/postgresql&user=root";

export function dockerAnswers(): boolean {
  try {
    execFileSync("docker", ["info", "--format", "{{.ServerVersion}}"], { stdio: "pipe", timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

export function imageExists(ref: string): boolean {
  try {
    execFileSync("docker", ["image", "inspect", ref], { stdio: "pipe", timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}
