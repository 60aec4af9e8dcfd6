//! The parts of a Kubernetes request that events share: object names,
//! request paths and query strings, Pod, workload and binding bodies, and
//! failures in the API server's wording.

use crate::generator::Generator;
use crate::world::{
    push_username, resource_index, short_name, Naming, ACTORS, APPS, CLUSTERS, EXEC_COMMANDS,
    PRIVILEGED_SECURITY_CONTEXTS, RESOURCES, SIDECARS, UNPRIVILEGED_SECURITY_CONTEXTS,
};
use crate::write::{
    push_hex, push_json_string, push_percent_encoded, push_random_name, push_u64, push_uuid,
};

impl Generator {
    /// A clusterrolebinding create answered 201, with its body.
    pub(crate) fn binding_create(&mut self, name: &str, role: &str, subjects: usize) {
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
    pub(crate) fn pod_object(&mut self, app: usize, named: bool, privileged: usize) -> u64 {
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
    pub(crate) fn workload_object(&mut self, app: usize) {
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
    pub(crate) fn exec_query(&mut self, app: usize) {
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
    pub(crate) fn object_name(&mut self, resource: usize, app: usize) {
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
    pub(crate) fn pod_name(&mut self, app: usize) {
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
    pub(crate) fn build_uri(&mut self) {
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
    pub(crate) fn fail(&mut self, code: u16) {
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
}

/// Appends a container of a Pod or template body; `volume` names its
/// service account token volume (empty: none).
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
