//! Rendering an event: its random parts are drawn first, then it is written
//! in the sample's format.
//!
//! | platform | module | `--format native` | `--format cloudaudit` |
//! |---|---|---|---|
//! | every | [`cloudaudit`] | | `CloudAuditEvents` rows, as Defender exports them |
//! | on-premises | [`k8s`] | upstream `audit.k8s.io` events | the event in `RawEventData` |
//! | AKS | [`aks`] | Azure diagnostic records | |
//! | EKS | [`eks`] | CloudWatch Logs payloads | |
//! | GKE | [`gke`] | Cloud Logging entries | |
//! | Resource Manager | [`arm`] | Activity Log records | the record in `RawEventData` |

mod aks;
mod arm;
mod cloudaudit;
mod eks;
mod gke;
mod k8s;

use crate::generator::Generator;
use crate::world::{Platform, CLUSTERS};
use crate::write::{push_u64, push_uuid};
use crate::SampleFormat;
use k8s::CAMEL_KEYS;

impl Generator {
    /// Appends the event as one line. The random parts are drawn first, in
    /// the same order for every format, so that a seed gives the same events
    /// in `cloudaudit` and `native` form.
    pub(crate) fn render(&mut self, out: &mut String) {
        let mut drawn = std::mem::take(&mut self.drawn);
        self.draw(&mut drawn);
        match (self.event.arm, self.format) {
            (Some(op), SampleFormat::CloudAudit) => self.render_arm_row(out, op, &drawn),
            (Some(op), SampleFormat::Native) => {
                self.push_arm_record(out, op, &drawn, true);
                out.push_str("}\n");
            }
            (None, SampleFormat::CloudAudit) => self.render_row(out, &drawn),
            (None, SampleFormat::Native) => self.render_native(out, &drawn),
        }
        self.drawn = drawn;
    }

    /// Draws the client address, the ids and the request's timing.
    fn draw(&mut self, drawn: &mut Drawn) {
        let event = &self.event;
        let cluster = &CLUSTERS[event.cluster];
        drawn.ip.clear();
        match event.client {
            Some(client) => drawn.ip.push_str(client.ip),
            None => {
                drawn.ip.push_str(cluster.subnet);
                // Kubelets keep their node's address; the rest move about.
                let octet = if event.node.is_empty() {
                    4 + self.rng.below(60)
                } else {
                    4 + cluster
                        .nodes
                        .iter()
                        .position(|n| *n == event.node)
                        .unwrap_or(0)
                };
                push_u64(&mut drawn.ip, octet as u64);
            }
        }
        drawn.report_id.clear();
        push_uuid(&mut drawn.report_id, &mut self.rng);
        drawn.audit_id.clear();
        push_uuid(&mut drawn.audit_id, &mut self.rng);
        // The request arrives a moment before the row's time; the stage
        // ends after the API server's latency.
        drawn.received = event.time_us - self.rng.range(500, 3_000);
        let latency = match event.stage {
            "ResponseStarted" => self.rng.range(20_000, 60_000),
            _ => self.rng.range(800, 25_000),
        };
        drawn.stage_end = drawn.received + latency;
    }

    /// The event as its platform exports it; `self.native` is scratch space for
    /// formats that wrap the audit event as text.
    fn render_native(&mut self, out: &mut String, drawn: &Drawn) {
        let cluster = &CLUSTERS[self.event.cluster];
        let mut text = std::mem::take(&mut self.native);
        text.clear();
        match cluster.platform {
            Platform::OnPrem => self.push_event(out, &CAMEL_KEYS, drawn),
            Platform::Aks => self.push_aks_record(out, &mut text, drawn),
            Platform::Eks => self.push_eks_payload(out, &mut text, drawn),
            Platform::Gke => self.push_gke_entry(out, drawn),
        }
        out.push('\n');
        self.native = text;
    }
}

/// The random parts of a rendered event.
#[derive(Default)]
pub(crate) struct Drawn {
    ip: String,
    report_id: String,
    audit_id: String,
    /// `requestReceivedTimestamp`, microseconds.
    received: i64,
    /// `stageTimestamp`, microseconds.
    stage_end: i64,
}
