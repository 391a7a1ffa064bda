import { test } from "node:test";
import assert from "node:assert/strict";
import { isDriverTransportError } from "./pg_flags.ts";

test("isDriverTransportError: a node:net socket's ECONNRESET and the driver's own frames are transport errors", () => {
  const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", syscall: "read" });
  reset.stack = "Error: read ECONNRESET\n    at close (node:net:912:40)";
  assert.equal(isDriverTransportError(reset), true);
  const flush = new TypeError("null is not an object (evaluating 'socket.write')");
  flush.stack = "TypeError: null is not an object\n    at write (/app/node_modules/postgres/src/connection.js:262:12)";
  assert.equal(isDriverTransportError(flush), true);
});

test("isDriverTransportError: other uncaught errors are not (the process still ends on them)", () => {
  const ours = new Error("boom");
  assert.equal(isDriverTransportError(ours), false);
  const noSyscall = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
  noSyscall.stack = "Error: read ECONNRESET\n    at close (node:net:912:40)";
  assert.equal(isDriverTransportError(noSyscall), false);
  const fileError = Object.assign(new Error("EPIPE"), { code: "EPIPE", syscall: "write" });
  fileError.stack = "Error: EPIPE\n    at write (node:fs:1:1)";
  assert.equal(isDriverTransportError(fileError), false);
  assert.equal(isDriverTransportError(undefined), false);
});
