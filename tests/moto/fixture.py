"""Launch templates, an EKS cluster and node groups for the `push` tests, made and read with
boto3 against the moto server named by AWS_ENDPOINT_URL (see server.py).

usage: fixture.py setup            create everything; print ids as JSON
       fixture.py dump NAME        every version of a template, and its default, as JSON
       fixture.py bump NAME        a new version from $Latest with another instance type
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
    for ng, lt in (("ng-web", "web-plain"), ("ng-batch", "batch-mime")):
        eks.create_nodegroup(
            clusterName="prod",
            nodegroupName=ng,
            nodeRole="arn:aws:iam::123456789012:role/node",
            subnets=["subnet-1"],
            launchTemplate={"id": ids[lt], "version": "1"},
        )
    print(json.dumps({"templates": ids, "images": {"al2": al2, "al2023": al2023, "al2023_old": al2023_old}}))


def dump(name):
    out = ec2.describe_launch_template_versions(LaunchTemplateName=name)["LaunchTemplateVersions"]
    default = [v["VersionNumber"] for v in out if v["DefaultVersion"]]
    versions = {
        str(v["VersionNumber"]): {"description": v.get("VersionDescription"), "data": v["LaunchTemplateData"]}
        for v in out
    }
    print(json.dumps({"default": default[0] if default else None, "versions": versions}, default=str, sort_keys=True))


def bump(name):
    ec2.create_launch_template_version(
        LaunchTemplateName=name, SourceVersion="$Latest", LaunchTemplateData={"InstanceType": "m5.xlarge"}
    )


def nodegroup(name):
    print(json.dumps(eks.describe_nodegroup(clusterName="prod", nodegroupName=name)["nodegroup"]["launchTemplate"]))


if __name__ == "__main__":
    {"setup": setup, "dump": dump, "bump": bump, "nodegroup": nodegroup}[sys.argv[1]](*sys.argv[2:])
