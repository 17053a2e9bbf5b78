import { describe, expect, it } from "vitest";
import { redactDatabaseUrl, withoutDatabaseSecrets } from "./redact-url.js";

const SECRET = "Zq7-s3cret";

/**
 * Every way a database URL (or a libpq key=value string) can carry a password, its shown
 * form, and the password a client would send (null: the URL holds none).
 */
const FORMS: [string, string, string | null][] = [
  [
    `postgres://ada:${SECRET}@db.example:5432/registry`,
    "postgres://ada:***@db.example:5432/registry",
    SECRET,
  ],
  [
    `postgresql://ada:${SECRET}@127.0.0.1/registry?sslmode=disable`,
    "postgresql://ada:***@127.0.0.1/registry?sslmode=disable",
    SECRET,
  ],
  [`postgres://ada:p%40${SECRET}@h/db`, "postgres://ada:***@h/db", `p@${SECRET}`],
  [`postgres://ada@h/db?password=${SECRET}`, "postgres://ada@h/db?password=***", SECRET],
  [
    `postgres://h/db?user=ada&PASSWORD=${SECRET}&host=/var/run/postgresql`,
    "postgres://h/db?user=ada&PASSWORD=***&host=/var/run/postgresql",
    SECRET,
  ],
  [`postgres://h/db?PassWord=${SECRET}`, "postgres://h/db?PassWord=***", SECRET],
  [`postgres://h/db?pass%77ord=${SECRET}`, "postgres://h/db?pass%77ord=***", SECRET],
  [
    `postgres://h/db?sslkey=/k/client.key&sslpassword=${SECRET}`,
    "postgres://h/db?sslkey=/k/client.key&sslpassword=***",
    SECRET,
  ],
  [`postgres://h/db?passfile=/home/ada/.pgpass`, "postgres://h/db?passfile=/home/ada/.pgpass", null],
  // WHATWG URL refuses these (pg does too, or reads them its own way): more is hidden.
  [
    `postgres://ada:${SECRET}@/registry?host=/var/run/postgresql`,
    "postgres://ada:***@/registry?host=/var/run/postgresql",
    SECRET,
  ],
  [`postgres://ada:se/${SECRET}@h/db`, "postgres://ada:***@h/db", `se/${SECRET}`],
  [`postgres://ada:a#${SECRET}@h/db`, "postgres://ada:***@h/db", `a#${SECRET}`],
  [`postgres://[bad/db?password=${SECRET}&x=1`, "postgres://[bad/db?password=***&x=1", SECRET],
  // libpq keyword/value strings (refused by --db, but shown in the refusal).
  [
    `host=h user=ada password=${SECRET} dbname=registry`,
    "host=h user=ada password=*** dbname=registry",
    SECRET,
  ],
  [
    `host=h password = '${SECRET} x\\'y' dbname=registry`,
    "host=h password = *** dbname=registry",
    `${SECRET} x'y`,
  ],
  [`host=h sslpassword=${SECRET}`, "host=h sslpassword=***", SECRET],
];

describe("redactDatabaseUrl", () => {
  it.each(FORMS)("hides the password in %s", (url, shown) => {
    expect(redactDatabaseUrl(url)).toBe(shown);
    expect(redactDatabaseUrl(url)).not.toContain(SECRET);
  });

  it("leaves URLs without a secret as they are", () => {
    for (const url of [
      "postgres:///registry?host=/var/run/postgresql&user=root",
      "postgres://%2Fvar%2Frun%2Fpostgresql/registry",
      "postgresql://ada@db.example/registry?sslmode=verify-full&application_name=rr",
    ]) {
      expect(redactDatabaseUrl(url)).toBe(url);
    }
  });
});

describe("withoutDatabaseSecrets", () => {
  it.each(FORMS.filter(([, , password]) => password !== null))(
    "scrubs the URL and its password out of a message: %s",
    (url, shown, password) => {
      const message = `connect to ${url} failed (password ${password ?? ""}, encoded ${encodeURIComponent(password ?? "")})`;
      expect(withoutDatabaseSecrets(message, url)).toBe(
        `connect to ${shown} failed (password ***, encoded ***)`,
      );
    },
  );

  it("leaves a message without secrets alone, even when the password is short", () => {
    expect(withoutDatabaseSecrets("Connection terminated", "postgres://u:on@h/db")).toBe(
      "Connection terminated",
    );
  });
});
