"""moto's server for the `push` tests, with two gaps closed (docs/rust-stack.md §1.5.3):

1. CreateLaunchTemplateVersion with `SourceVersion`: real EC2 starts the new version from the
   source version and replaces only the top-level parameters the request sets (EC2 API reference,
   CreateLaunchTemplateVersion). moto 5.x ignores SourceVersion, so a version made the way EC2
   expects would lose every other field here. This wrapper merges exactly that way.
2. EKS UpdateNodegroupVersion: moto has no route for it (HTTP 404). This wrapper adds the route
   and a fake of that one call: it records the launch template version on the node group (so
   DescribeNodegroup shows it) and answers with an `update` as EKS does.

3. DescribeLaunchTemplates pagination: moto cuts the list at MaxResults (default 15) and never
   returns a NextToken, so a client that pages correctly sees 15 templates of 200. This wrapper
   pages as EC2 does; MOTO_PAGE_SIZE caps the page size so the tests cross page boundaries.
4. EKS cluster certificate authority: moto invents 1,400 random letters; EKS returns base64 of a
   PEM certificate, which `lint` checks (NC219). This wrapper returns a PEM-shaped one.
5. DeleteLaunchTemplateVersions: moto has no such action (HTTP 500 "not yet implemented"). This
   wrapper adds it as the EC2 API reference describes it: the versions vanish from every read,
   their numbers are not reused, the default version cannot be deleted, and versions that could
   not be deleted are listed in UnsuccessfullyDeletedLaunchTemplateVersions (HTTP 200).

6. EKS add-ons (CreateAddon, DescribeAddon, ListAddons): moto has no routes for them (HTTP 404).
   `preflight` reads the `vpc-cni` add-on's version. This wrapper keeps add-ons per cluster and
   answers with the EKS API reference's shapes (addonName, addonVersion, clusterName, status
   ACTIVE); an unknown add-on is ResourceNotFoundException (HTTP 404), as EKS answers.

7. A node group's status: moto makes every node group ACTIVE at once, so a node group that
   never becomes ACTIVE (the blue/green timeout scenario) cannot be made. A node group created
   with the tag `eks-userdata-test/status` keeps that status instead (test-only; EKS has no
   such tag).

With MOTO_STOCK_SOURCE_VERSION=1 the first gap is left open: the server then makes versions as
stock moto 5 does, ignoring SourceVersion, as any EC2-compatible endpoint that does not honour
it would. The verification test uses that to get a version that really differs from its plan.

Everything else is moto unchanged. usage: server.py PORT (binds 127.0.0.1)
"""

import base64
import copy
import os
import sys
import uuid

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.exceptions import InvalidLaunchTemplateVersionNotFound
from moto.ec2.models.launch_templates import LaunchTemplate, LaunchTemplateBackend
from moto.ec2.responses.launch_templates import LaunchTemplates
import moto.eks.models as eks_models
import moto.eks.urls as eks_urls
from moto.eks.responses import EKSResponse
from moto.server import main

_create_version = LaunchTemplates.create_launch_template_version


def _template(self):
    """The template a request names by LaunchTemplateId or LaunchTemplateName."""
    template_id = self._get_param("LaunchTemplateId")
    if template_id:
        return self.ec2_backend.get_launch_template(template_id)
    return self.ec2_backend.get_launch_template_by_name(self._get_param("LaunchTemplateName"))


def create_launch_template_version(self):
    source = self._get_param("SourceVersion")
    if not source:
        return _create_version(self)
    template = _template(self)
    merged = copy.deepcopy(template.get_version(source).data)
    merged.update(self._get_param("LaunchTemplateData", {}))
    get_param = self._get_param

    def _get_param(key, *args, **kwargs):
        return merged if key == "LaunchTemplateData" else get_param(key, *args, **kwargs)

    self._get_param = _get_param
    return _create_version(self)


def describe_launch_templates(self):
    size = min(self._get_int_param("MaxResults", 200), int(os.environ.get("MOTO_PAGE_SIZE", "200")))
    start = int(self._get_param("NextToken") or 0)
    templates = self.ec2_backend.describe_launch_templates(
        template_names=self._get_param("LaunchTemplateNames", []),
        template_ids=self._get_param("LaunchTemplateIds", []),
        filters=self._filters_from_querystring(),
    )
    result = {
        "LaunchTemplates": [
            {
                "CreateTime": t.create_time,
                "CreatedBy": f"arn:{self.partition}:iam::{self.current_account}:root",
                "DefaultVersionNumber": t.default_version_number,
                "LatestVersionNumber": t.latest_version_number,
                "LaunchTemplateId": t.id,
                "LaunchTemplateName": t.name,
                # The live tags: moto snapshots `tags` at creation, before CloudFormation tags it.
                "Tags": t.get_tags(),
            }
            for t in templates[start : start + size]
        ]
    }
    if start + size < len(templates):
        result["NextToken"] = str(start + size)
    return ActionResult(result)


def update_nodegroup_version(self):
    cluster = self.eks_backend.clusters[self._get_param("name")]
    nodegroup = cluster.nodegroups[self._get_param("nodegroupName")]
    template = self._get_param("launchTemplate") or {}
    params = []
    if template.get("version"):
        nodegroup.launch_template = dict(nodegroup.launch_template or {}, version=template["version"])
        params.append({"type": "LaunchTemplateVersion", "value": template["version"]})
    if self._get_param("force"):
        params.append({"type": "Force", "value": "true"})
    update = {
        "id": str(uuid.uuid4()),
        "status": "InProgress",
        "type": "VersionUpdate",
        "params": params,
        "createdAt": utcnow(),
        "errors": [],
    }
    return ActionResult({"update": update})


def _addons(self):
    cluster = self.eks_backend.clusters[self._get_param("name")]
    if not hasattr(cluster, "addons"):
        cluster.addons = {}
    return cluster


def create_addon(self):
    cluster = _addons(self)
    addon = {
        "addonName": self._get_param("addonName"),
        "clusterName": cluster.name,
        "status": "ACTIVE",
        "addonVersion": self._get_param("addonVersion") or "v0.0.0-eksbuild.1",
        "addonArn": f"{cluster.arn}/addon/{self._get_param('addonName')}",
        "createdAt": utcnow(),
        "modifiedAt": utcnow(),
        "tags": self._get_param("tags") or {},
    }
    cluster.addons[addon["addonName"]] = addon
    return ActionResult({"addon": addon})


def describe_addon(self):
    addon = _addons(self).addons.get(self._get_param("addonName"))
    if addon is None:
        from moto.eks.exceptions import ResourceNotFoundException

        raise ResourceNotFoundException(
            cluster_name=self._get_param("name"), nodegroup_name=None, fargate_profile_name=None,
            addon_name=self._get_param("addonName"), message="No addon: " + str(self._get_param("addonName")),
        )
    return ActionResult({"addon": addon})


def list_addons(self):
    return ActionResult({"addons": sorted(_addons(self).addons)})


def _live(template):
    return [v for v in template.versions if not getattr(v, "deleted", False)]


_get_version = LaunchTemplate.get_version


def get_version(self, num):
    if str(num).lower() == "$latest":
        return _live(self)[-1]
    version = _get_version(self, num)
    if getattr(version, "deleted", False):
        raise InvalidLaunchTemplateVersionNotFound(template_id=self.id, version=num)
    return version


_describe_versions = LaunchTemplateBackend.describe_launch_template_versions


def describe_launch_template_versions_model(self, *args, **kwargs):
    return [(t, v) for t, v in _describe_versions(self, *args, **kwargs) if not getattr(v, "deleted", False)]


def delete_launch_template_versions(self):
    template = _template(self)
    done, failed = [], []
    for number in self._get_param("Versions", []):
        item = {"LaunchTemplateId": template.id, "LaunchTemplateName": template.name, "VersionNumber": int(number)}
        try:
            version = template.get_version(number)
        except InvalidLaunchTemplateVersionNotFound:
            failed.append(dict(item, ResponseError={"Code": "launchTemplateVersionDoesNotExist", "Message": "The specified launch template version does not exist."}))
            continue
        if template.is_default(version):
            failed.append(dict(item, ResponseError={"Code": "unexpectedError", "Message": "You can't delete the default version of a launch template."}))
            continue
        version.deleted = True
        done.append(item)
    return ActionResult(
        {"SuccessfullyDeletedLaunchTemplateVersions": done, "UnsuccessfullyDeletedLaunchTemplateVersions": failed}
    )


PEM = b"-----BEGIN CERTIFICATE-----\nMAoGCCsGAQUFBwMB\n-----END CERTIFICATE-----\n"
_cluster_init = eks_models.Cluster.__init__


def cluster_init(self, *args, **kwargs):
    _cluster_init(self, *args, **kwargs)
    self.certificate_authority = {"data": base64.b64encode(PEM).decode()}


eks_models.Cluster.__init__ = cluster_init
_nodegroup_init = eks_models.Nodegroup.__init__


def nodegroup_init(self, *args, **kwargs):
    _nodegroup_init(self, *args, **kwargs)
    status = (getattr(self, "tags", None) or {}).get("eks-userdata-test/status")
    if status:
        self.status = status


eks_models.Nodegroup.__init__ = nodegroup_init
if os.environ.get("MOTO_STOCK_SOURCE_VERSION") != "1":
    LaunchTemplates.create_launch_template_version = create_launch_template_version
LaunchTemplate.get_version = get_version
LaunchTemplate.latest_version = lambda self: _live(self)[-1]
LaunchTemplateBackend.describe_launch_template_versions = describe_launch_template_versions_model
LaunchTemplates.delete_launch_template_versions = delete_launch_template_versions
LaunchTemplates.describe_launch_templates = describe_launch_templates
EKSResponse.update_nodegroup_version = update_nodegroup_version
EKSResponse.create_addon = create_addon
EKSResponse.describe_addon = describe_addon
EKSResponse.list_addons = list_addons
eks_urls.url_paths["{0}/clusters/(?P<name>[^/]+)/addons$"] = eks_urls.response.dispatch
eks_urls.url_paths["{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)$"] = eks_urls.response.dispatch
eks_urls.url_paths[
    "{0}/clusters/(?P<name>[^/]+)/node-groups/(?P<nodegroupName>[^/]+)/update-version$"
] = eks_urls.response.dispatch

if __name__ == "__main__":
    main(["-H", "127.0.0.1", "-p", sys.argv[1]])
