"""Launch templates, an EKS cluster and node groups for the `push` tests, made and read with
boto3 against the moto server named by AWS_ENDPOINT_URL (see server.py).

usage: fixture.py setup            create everything; print ids as JSON
       fixture.py owned            templates each kind of owner makes, tagged suite=owned
       fixture.py accounts         a template in each of accounts 111111111111 and 222222222222
       fixture.py dump NAME [ACCOUNT]  every version of a template, and its default, as JSON
       fixture.py bump NAME        a new version from $Latest with another instance type
       fixture.py forge NAME [default]  a broken version with this tool's description (made the default)
       fixture.py set_default NAME N    make version N the default, as a person would
       fixture.py nodegroup NAME   the launch template a node group of cluster `prod` uses
"""

import base64
import json
import os
import sys

import boto3

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
ec2 = boto3.client("ec2")
eks = boto3.client("eks")


def user_data(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return base64.b64encode(f.read()).decode()


def template(name, data, team):
    t = ec2.create_launch_template(
        LaunchTemplateName=name,
        LaunchTemplateData=data,
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "team", "Value": team}]}],
    )
    return t["LaunchTemplate"]["LaunchTemplateId"]


def image(name):
    return ec2.register_image(
        Name=name,
        Architecture="x86_64",
        RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 20}}],
    )["ImageId"]


def setup():
    # moto's RegisterImage drops Architecture, so the AL2 image is one of moto's own (x86_64).
    images = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "architecture", "Values": ["x86_64"]}])["Images"]
    al2 = sorted(images, key=lambda i: (not i["Name"].startswith("amzn"), i["ImageId"]))[0]["ImageId"]
    al2023_old = image("amazon-eks-node-al2023-x86_64-standard-1.33-v20251001")
    al2023 = image("amazon-eks-node-al2023-x86_64-standard-1.33-v20251101")
    ids = {}
    # Every kind of field a real node template carries, so a lost one shows.
    ids["web-plain"] = template(
        "web-plain",
        {
            "ImageId": al2,
            "InstanceType": "m5.large",
            "KeyName": "ops",
            "EbsOptimized": True,
            "UserData": user_data("fixtures/al2/plain-script.sh"),
            "BlockDeviceMappings": [
                {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 100, "VolumeType": "gp3", "Encrypted": True, "DeleteOnTermination": True}},
                {"DeviceName": "/dev/xvdb", "Ebs": {"VolumeSize": 200, "VolumeType": "gp3", "Iops": 4000}},
            ],
            "NetworkInterfaces": [
                {"DeviceIndex": 0, "AssociatePublicIpAddress": False, "Groups": ["sg-0a1b2c3d"], "DeleteOnTermination": True}
            ],
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web"}, {"Key": "cost-center", "Value": "42"}]},
                {"ResourceType": "volume", "Tags": [{"Key": "backup", "Value": "daily"}]},
            ],
            "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1, "HttpEndpoint": "enabled", "InstanceMetadataTags": "enabled"},
            "Monitoring": {"Enabled": True},
        },
        "web",
    )
    ids["batch-mime"] = template(
        "batch-mime",
        {"InstanceType": "c5.xlarge", "UserData": user_data("fixtures/al2/mime-shell-parts.txt")},
        "batch",
    )
    ids["blank"] = template("blank", {"InstanceType": "t3.small"}, "misc")
    ids["broken"] = template(
        "broken",
        {"InstanceType": "t3.small", "UserData": base64.b64encode(b"#!/bin/bash\n/etc/eks/bootstrap.sh prod --frobnicate yes\n").decode()},
        "misc",
    )
    ids["modern"] = template(
        "modern",
        {"InstanceType": "t3.small", "UserData": user_data("fixtures/al2023/multipart-shell-and-nodeconfig.txt")},
        "misc",
    )
    eks.create_cluster(
        name="prod",
        version="1.33",
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]},
        kubernetesNetworkConfig={"serviceIpv4Cidr": "10.100.0.0/16", "ipFamily": "ipv4"},
    )
    # EKS reports amiType CUSTOM for a node group whose launch template names an AMI (web-plain);
    # moto would report its default, AL2_x86_64, so the fixture says what EKS would.
    for ng, lt, ami_type in (("ng-web", "web-plain", "CUSTOM"), ("ng-batch", "batch-mime", "AL2_x86_64")):
        eks.create_nodegroup(
            clusterName="prod",
            nodegroupName=ng,
            nodeRole="arn:aws:iam::123456789012:role/node",
            subnets=["subnet-1"],
            launchTemplate={"id": ids[lt], "version": "1"},
            amiType=ami_type,
        )
    print(json.dumps({"templates": ids, "images": {"al2": al2, "al2023": al2023, "al2023_old": al2023_old}}))


def owned():
    """Each owner makes its template its own way: CloudFormation and eksctl through stacks (moto's
    CloudFormation tags what it creates, as CloudFormation does), Karpenter and EKS and Terraform
    through CreateLaunchTemplate with the names and tags they use (see src/aws/owner.rs)."""
    ud = user_data("fixtures/al2/plain-script.sh")
    cfn = boto3.client("cloudformation")

    def stack(name, template_name, tags):
        body = {
            "Resources": {
                "NodeLaunchTemplate": {
                    "Type": "AWS::EC2::LaunchTemplate",
                    "Properties": {
                        "LaunchTemplateName": template_name,
                        "LaunchTemplateData": {"InstanceType": "m5.large", "UserData": ud},
                    },
                }
            }
        }
        cfn.create_stack(StackName=name, TemplateBody=json.dumps(body), Tags=[{"Key": k, "Value": v} for k, v in tags])

    stack("web-nodes", "cfn-web", [("suite", "owned")])
    stack(
        "eksctl-prod-nodegroup-ng1",
        "eksctl-prod-nodegroup-ng1",
        [
            ("suite", "owned"),
            ("alpha.eksctl.io/cluster-name", "prod"),
            ("eksctl.cluster.k8s.io/v1alpha1/cluster-name", "prod"),
            ("alpha.eksctl.io/nodegroup-name", "ng1"),
            ("alpha.eksctl.io/nodegroup-type", "unmanaged"),
        ],
    )
    data = {"InstanceType": "m5.large", "UserData": ud}
    for name, tags in (
        (
            "karpenter.k8s.aws/12345678901234567890",
            {"karpenter.k8s.aws/ec2nodeclass": "default", "karpenter.sh/nodepool": "general", "eks:eks-cluster-name": "prod"},
        ),
        ("eks-6cc5d0a8-1b2c-4d3e-9f00-0123456789ab", {"eks:cluster-name": "prod", "eks:nodegroup-name": "ng-managed"}),
        ("tf-web", {"ManagedBy": "terraform"}),
        ("tf-default-tags", {"Stack": "platform"}),
        ("mine", {"team": "web"}),
    ):
        ec2.create_launch_template(
            LaunchTemplateName=name,
            LaunchTemplateData=data,
            TagSpecifications=[
                {"ResourceType": "launch-template", "Tags": [{"Key": k, "Value": v} for k, v in dict(tags, suite="owned").items()]}
            ],
        )
    print(json.dumps({t["LaunchTemplateName"]: t["LaunchTemplateId"] for t in ec2.describe_launch_templates()["LaunchTemplates"]}))


ACCOUNTS = ("111111111111", "222222222222")


def client(service, account=None):
    """A client in `account`, through a role assumed with moto's STS (moto maps the returned
    keys to the role's account), as a platform team reaches member accounts."""
    if account is None:
        return boto3.client(service)
    creds = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/migrate", RoleSessionName="fixture")["Credentials"]
    return boto3.client(
        service,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def accounts():
    ids = {}
    for account in ACCOUNTS:
        t = client("ec2", account).create_launch_template(
            LaunchTemplateName=f"web-{account}",
            LaunchTemplateData={"InstanceType": "m5.large", "UserData": user_data("fixtures/al2/plain-script.sh")},
        )
        ids[account] = t["LaunchTemplate"]["LaunchTemplateId"]
    print(json.dumps(ids))


def dump(name, account=None):
    out = client("ec2", account).describe_launch_template_versions(LaunchTemplateName=name)["LaunchTemplateVersions"]
    default = [v["VersionNumber"] for v in out if v["DefaultVersion"]]
    versions = {
        str(v["VersionNumber"]): {"description": v.get("VersionDescription"), "data": v["LaunchTemplateData"]}
        for v in out
    }
    print(json.dumps({"default": default[0] if default else None, "versions": versions}, default=str, sort_keys=True))


def forge(name, make_default="no"):
    """A version as a broken earlier run would leave it: this tool's description, AL2023 user data,
    and none of the source's other fields (made without SourceVersion)."""
    v = ec2.create_launch_template_version(
        LaunchTemplateName=name,
        VersionDescription="eks-userdata: AL2023 user data from version 1",
        LaunchTemplateData={"UserData": user_data("fixtures/al2023/multipart-shell-and-nodeconfig.txt")},
    )["LaunchTemplateVersion"]["VersionNumber"]
    if make_default == "default":
        ec2.modify_launch_template(LaunchTemplateName=name, DefaultVersion=str(v))


def set_default(name, version):
    ec2.modify_launch_template(LaunchTemplateName=name, DefaultVersion=version)


def bump(name):
    ec2.create_launch_template_version(
        LaunchTemplateName=name, SourceVersion="$Latest", LaunchTemplateData={"InstanceType": "m5.xlarge"}
    )


def nodegroup(name):
    print(json.dumps(eks.describe_nodegroup(clusterName="prod", nodegroupName=name)["nodegroup"]["launchTemplate"]))


def preflight():
    """A cluster as `preflight`'s scenario wants it: Kubernetes 1.33, the VPC CNI add-on at
    1.15.1, an AL2 managed node group made by an old eksctl whose launch template keeps the
    hop limit at 1, and an AL2023 one whose template allows 2 hops."""
    eks.create_cluster(
        name="legacy",
        version="1.33",
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]},
    )
    eks.create_addon(clusterName="legacy", addonName="vpc-cni", addonVersion="v1.15.1-eksbuild.1")
    for name, hop, ami_type, tags in [
        ("old", 1, "AL2_x86_64", {"alpha.eksctl.io/eksctl-version": "0.150.0"}),
        ("new", 2, "AL2023_x86_64_STANDARD", {}),
    ]:
        lt = ec2.create_launch_template(
            LaunchTemplateName=f"legacy-{name}",
            LaunchTemplateData={"MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": hop}},
        )["LaunchTemplate"]["LaunchTemplateId"]
        eks.create_nodegroup(
            clusterName="legacy",
            nodegroupName=name,
            nodeRole="arn:aws:iam::123456789012:role/node",
            subnets=["subnet-1"],
            launchTemplate={"id": lt, "version": "1"},
            amiType=ami_type,
            tags=tags,
        )
    print(json.dumps({"cluster": "legacy"}))


def bluegreen():
    """Cluster `blue`: an AL2 managed node group `general` (labels, a taint, two nodes), and
    `stuck`, whose twin will never become ACTIVE (server.py's test-only status tag)."""
    eks.create_cluster(
        name="blue",
        version="1.31",
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": ["subnet-1", "subnet-2"]},
    )
    for name, tags in [("general", {"team": "web"}), ("stuck", {"eks-userdata-test/status": "CREATING"})]:
        eks.create_nodegroup(
            clusterName="blue",
            nodegroupName=name,
            nodeRole="arn:aws:iam::123456789012:role/node",
            subnets=["subnet-1", "subnet-2"],
            instanceTypes=["m6i.large"],
            scalingConfig={"minSize": 1, "maxSize": 3, "desiredSize": 1},
            amiType="AL2_x86_64",
            labels={"team": "web"},
            taints=[{"key": "dedicated", "value": "web", "effect": "NO_SCHEDULE"}],
            tags=tags,
        )
    print(json.dumps({"cluster": "blue"}))


def groups(cluster):
    names = eks.list_nodegroups(clusterName=cluster)["nodegroups"]
    out = {}
    for n in names:
        g = eks.describe_nodegroup(clusterName=cluster, nodegroupName=n)["nodegroup"]
        out[n] = {k: g.get(k) for k in ("amiType", "status", "labels", "taints", "instanceTypes", "scalingConfig", "tags")}
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    commands = {
        "bluegreen": bluegreen,
        "groups": groups,
        "preflight": preflight,
        "setup": setup,
        "owned": owned,
        "accounts": accounts,
        "dump": dump,
        "bump": bump,
        "forge": forge,
        "set_default": set_default,
        "nodegroup": nodegroup,
    }
    commands[sys.argv[1]](*sys.argv[2:])
