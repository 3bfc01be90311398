// The control: the generated types still say "a string". A number is no
// state, so this file must not compile (the check is not vacuous).
import type { components } from "./api";

export const notAState: components["schemas"]["BatchState"] = 42;
export const notACode: components["schemas"]["Error409"]["error"]["code"] = { code: "X" };
