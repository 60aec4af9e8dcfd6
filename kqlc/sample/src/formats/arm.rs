//! `arm`: Azure Resource Manager operations as Activity Log records, the
//! shape diagnostic settings export (and `RawEventData` of their
//! `CloudAuditEvents` rows).

use super::Drawn;
use crate::generator::{ArmOperation, Generator};
use crate::world::{ARM_CALLERS, ARM_OPERATIONS};
use crate::write::{push_datetime, push_json_string, push_u64};

impl Generator {
    /// An Activity Log record (diagnostic-settings shape), without its
    /// closing brace; `native` writes names in capitals as Azure exports do.
    pub(crate) fn push_arm_record(
        &self,
        out: &mut String,
        op: ArmOperation,
        drawn: &Drawn,
        native: bool,
    ) {
        let (operation, resource_id, _) = ARM_OPERATIONS[op.operation];
        let caller = ARM_CALLERS[op.caller].0;
        let capitals = |s: &str| {
            if native {
                s.to_ascii_uppercase()
            } else {
                s.to_string()
            }
        };
        out.push_str("{\"time\":\"");
        push_datetime(out, self.event.time_us, 6);
        out.push_str("\",\"resourceId\":");
        push_json_string(out, &capitals(resource_id));
        out.push_str(",\"operationName\":");
        push_json_string(out, &capitals(operation));
        out.push_str(",\"category\":\"Administrative\",\"resultType\":");
        push_json_string(out, op.result.0);
        out.push_str(",\"resultSignature\":");
        push_json_string(out, op.result.1);
        out.push_str(",\"durationMs\":\"");
        push_u64(out, if op.result.0 == "Start" { 0 } else { 1_250 });
        out.push_str("\",\"callerIpAddress\":");
        push_json_string(out, &drawn.ip);
        out.push_str(",\"correlationId\":");
        push_json_string(out, &drawn.audit_id);
        out.push_str(",\"identity\":{\"authorization\":{\"scope\":");
        push_json_string(out, resource_id);
        out.push_str(",\"action\":");
        push_json_string(out, operation);
        out.push_str(
            "},\"claims\":{\"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name\":",
        );
        push_json_string(out, caller);
        out.push_str("}},\"level\":");
        out.push_str(if op.result.0 == "Failure" {
            "\"Error\""
        } else {
            "\"Information\""
        });
        out.push_str(",\"location\":\"global\",\"properties\":{\"eventCategory\":\"Administrative\",\"entity\":");
        push_json_string(out, resource_id);
        out.push_str(",\"message\":");
        push_json_string(out, operation);
        out.push('}');
    }
}
