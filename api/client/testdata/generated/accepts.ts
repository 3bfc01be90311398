// A client compiled today against api/openapi.yaml: the values it knows
// type-check, and so do those a later release adds.
import type { components } from "./api";

type Schemas = components["schemas"];

export const known: Schemas["BatchState"][] = ["AWAITING_AGREEMENT", "COMMITTED", "EXPIRED"];
export const laterState: Schemas["BatchState"] = "PAUSED_BY_OPS";
export const laterMigrationState: Schemas["MigrationState"] = "ARCHIVED";
export const laterAction: Schemas["NextAction"] = "CONTACT_SUPPORT";
export const laterCode: Schemas["Error409"]["error"]["code"] = "A_CODE_ADDED_LATER";
export const laterReason: Schemas["SkipReason"] = "ON_HOLD";
export const laterType: Schemas["ItemType"] = "plugin";
export const laterRole: Schemas["Role"] = "viewer";
export const laterOnboarding: Schemas["Onboarding"] = "suspended";
export const laterKind: Schemas["Subject"]["kind"] = "government";
