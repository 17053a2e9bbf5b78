/**
 * Failures that only exist in HTTP (a missing bearer token, a conflict with a replay's state,
 * a malformed request body). Everything else is a ReplayError, mapped once in problem-details.ts.
 */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    readonly extra: {
      code?: string;
      hint?: string;
      headers?: Record<string, string>;
      details?: Record<string, unknown>;
    } = {},
  ) {
    super(message);
    this.name = "HttpProblem";
  }
}
