//! The kinds of event: background traffic that no reference rule reports,
//! Resource Manager operations, and the planted attacks that each match
//! exactly one rule.

use crate::generator::{ArmOperation, Generator};
use crate::world::{
    actor_app, actor_index, resource_index, short_name, starts_with_exempt_prefix, Naming,
    Platform, Role, ACTORS, APPS, ARM_CALLERS, ARM_OPERATIONS, CLUSTERS, RESOURCES,
};
use crate::write::{push_hex, push_json_string, push_random_name, push_u64, push_uuid};

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
    // -- background events: none of these matches a reference rule ----------

    /// A background event of a kind drawn from [`KINDS`].
    pub(crate) fn background(&mut self) {
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

    /// A `get`, `list` or `watch` of some resource, mostly by programs.
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

    /// A lease renewal: a node heartbeat or a leader election.
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

    /// A kubelet patching its node's or a pod's status.
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

    /// A Kubernetes `Event` about a pod.
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

    /// A TokenReview or SubjectAccessReview, by an API server delegate.
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

    /// A kubelet asking for a service account token.
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

    /// The scheduler binding a pod to a node.
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

    /// A pod deleted by a person or its ReplicaSet.
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

    /// A ConfigMap, Secret or workload created by a person or Argo CD.
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

    /// An update or patch of a binding, ConfigMap or workload.
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
    pub(crate) fn arm_operation(&mut self) {
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
    pub(crate) fn privileged_pod(&mut self) {
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
    pub(crate) fn exec_in_kube_system(&mut self) {
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
    pub(crate) fn cluster_admin_binding(&mut self) {
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
}
