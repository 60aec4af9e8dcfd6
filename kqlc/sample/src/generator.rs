//! The generator: its state, the event it fills in, one row at a time, and
//! the choice of cluster, identity and workload every kind of event starts
//! with.

use crate::formats::Drawn;
use crate::rng::SplitMix64;
use crate::world::{
    resource_index, starts_with_exempt_prefix, Client, Cluster, Platform, Role, ACTORS, APPS,
    CLUSTERS, RESOURCES,
};
use crate::write::{push_json_string, push_random_name};
use crate::{
    Rule, SampleFormat, SampleOptions, Source, MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_SECOND,
    OLD_ROWS_PER_MILLION, PLANTED_MAX_AGE, RULES,
};

/// The fields of one row that vary; reused from row to row to avoid
/// allocating.
#[derive(Default)]
pub(crate) struct Event {
    pub(crate) time_us: i64,
    pub(crate) cluster: usize,
    pub(crate) actor: usize,
    /// For kubelets: the node; names the user and picks the address.
    pub(crate) node: &'static str,
    pub(crate) client: Option<&'static Client>,
    pub(crate) user_agent: &'static str,
    pub(crate) verb: &'static str,
    pub(crate) level: &'static str,
    pub(crate) stage: &'static str,
    pub(crate) request_uri: String,
    pub(crate) resource: usize,
    /// Empty: no `namespace` key.
    pub(crate) namespace: &'static str,
    /// Empty: no `name` key.
    pub(crate) name: String,
    /// Empty: no `subresource` key.
    pub(crate) subresource: &'static str,
    pub(crate) code: u16,
    /// Empty for success; else `Forbidden`, `NotFound`, ...
    pub(crate) failure_reason: &'static str,
    pub(crate) failure_message: String,
    /// JSON text, or empty.
    pub(crate) request_object: String,
    /// RBAC denied the request (as opposed to admission or success).
    pub(crate) denied: bool,
    /// Extra annotation, already JSON (`,"key":"value"`), or empty.
    pub(crate) extra_annotation: &'static str,
    /// Privileged containers in a Pod body.
    pub(crate) privileged_containers: u64,
    /// `roleRef.name` and subject count of a ClusterRoleBinding body.
    pub(crate) binding_role: &'static str,
    pub(crate) binding_subjects: u64,
    /// A Resource Manager operation instead of a Kubernetes request.
    pub(crate) arm: Option<ArmOperation>,
}

/// A Resource Manager operation of the sample.
#[derive(Clone, Copy)]
pub(crate) struct ArmOperation {
    /// Index into `ARM_OPERATIONS`.
    pub(crate) operation: usize,
    /// Index into `ARM_CALLERS`.
    pub(crate) caller: usize,
    /// `resultType`, `resultSignature`.
    pub(crate) result: (&'static str, &'static str),
}

impl Event {
    /// Resets the event for the next row, keeping its buffers.
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
pub(crate) struct Generator {
    pub(crate) rng: SplitMix64,
    now_us: i64,
    match_rate: u32,
    source: Source,
    pub(crate) format: SampleFormat,
    /// Counts planted rows, to cycle through the rules.
    planted: u64,
    pub(crate) event: Event,
    /// `User` of each actor as JSON, after the username.
    pub(crate) user_tails: Vec<String>,
    /// Indexes into `RESOURCES`, per actor, for reads.
    pub(crate) reads: Vec<Vec<usize>>,
    /// Per app: the pod-template hash of its current ReplicaSet.
    pub(crate) template_hashes: Vec<String>,
    /// Buffers reused from event to event.
    pub(crate) drawn: Drawn,
    pub(crate) native: String,
}

impl Generator {
    /// A generator for `options`, with its lookups computed.
    pub(crate) fn new(options: &SampleOptions) -> Generator {
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
    pub(crate) fn row(&mut self, out: &mut String, done: u64, total: u64) -> [(u64, u64); 3] {
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
    pub(crate) fn pick_cluster(&mut self, platforms: &[Platform]) -> usize {
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
    pub(crate) fn pick_actor(&mut self, roles: &[Role]) -> usize {
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
    pub(crate) fn set_actor(&mut self, actor: usize) {
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

    /// Picks who reads: mostly kubelets, components and controllers.
    pub(crate) fn pick_actor_for_read(&mut self) -> usize {
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

    /// Picks any app.
    pub(crate) fn pick_app(&mut self) -> usize {
        self.rng.below(APPS.len())
    }

    /// Picks an app in `namespace`.
    pub(crate) fn pick_app_in(&mut self, namespace: &str) -> usize {
        loop {
            let i = self.pick_app();
            if APPS[i].namespace == namespace {
                return i;
            }
        }
    }
}
