//! `eks`: Amazon EKS audit logs as CloudWatch Logs delivers them to a
//! subscription: a `DATA_MESSAGE` payload whose `logEvents` hold the audit
//! event as JSON text.

use super::k8s::CAMEL_KEYS;
use super::Drawn;
use crate::generator::Generator;
use crate::world::CLUSTERS;
use crate::write::{push_json_string, push_u64};

impl Generator {
    /// The event as a CloudWatch Logs payload; `text` is scratch space for
    /// the audit event.
    pub(crate) fn push_eks_payload(&self, out: &mut String, text: &mut String, drawn: &Drawn) {
        let cluster = &CLUSTERS[self.event.cluster];
        self.push_event(text, &CAMEL_KEYS, drawn);
        out.push_str(
            "{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"111122223333\",\"logGroup\":\"/aws/eks/",
        );
        out.push_str(cluster.name);
        out.push_str("/cluster\",\"logStream\":\"kube-apiserver-audit-7f3a9c2e5b1d4f6a8c0e2b4d6f8a0c2e\",\"subscriptionFilters\":[\"eks-audit-to-firehose\"],\"logEvents\":[{\"id\":\"");
        push_u64(out, drawn.stage_end.unsigned_abs());
        out.push_str("000\",\"timestamp\":");
        push_u64(out, (drawn.stage_end / 1_000).unsigned_abs());
        out.push_str(",\"message\":");
        push_json_string(out, text);
        out.push_str("}]}");
    }
}
