//! `aks`: Azure Kubernetes Service audit logs as diagnostic settings export
//! them: a record of category `kube-audit` (reads) or `kube-audit-admin`,
//! with the audit event as JSON text in `properties.log`.

use super::k8s::CAMEL_KEYS;
use super::Drawn;
use crate::generator::Generator;
use crate::world::CLUSTERS;
use crate::write::{push_datetime, push_json_string};

impl Generator {
    /// The event as an AKS diagnostic record; `text` is scratch space for
    /// the audit event.
    pub(crate) fn push_aks_record(&self, out: &mut String, text: &mut String, drawn: &Drawn) {
        let cluster = &CLUSTERS[self.event.cluster];
        self.push_event(text, &CAMEL_KEYS, drawn);
        out.push_str("{\"category\":");
        let read = matches!(self.event.verb, "get" | "list" | "watch");
        out.push_str(if read {
            "\"kube-audit\""
        } else {
            "\"kube-audit-admin\""
        });
        out.push_str(",\"operationName\":\"Microsoft.ContainerService/managedClusters/diagnosticLogs/Read\",\"properties\":{\"log\":");
        push_json_string(out, text);
        out.push_str(",\"pod\":\"kube-apiserver-7c9f6d8b5-");
        out.push_str(&cluster.name[cluster.name.len().saturating_sub(3)..]);
        out.push_str("qz\",\"stream\":\"stdout\"},\"resourceId\":");
        push_json_string(out, &cluster.azure_resource_id.to_ascii_uppercase());
        out.push_str(",\"time\":\"");
        push_datetime(out, drawn.stage_end + 350, 6);
        out.push_str("\"}");
    }
}
