"""Debian's ``mvn`` (OpenJDK 17) resolving the published model by a version range, with no
Maven plugin: the model jar is a build extension of a ``packaging=pom`` consumer (research
note next-stage.md §B), so ``validate`` needs nothing but the model and plexus-utils."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CONSUMER = '''<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.acme</groupId><artifactId>consumer</artifactId><version>1</version>
  <packaging>pom</packaging>
  <pluginRepositories><pluginRepository><id>models</id><url>{url}</url>
    <releases><checksumPolicy>fail</checksumPolicy></releases>
  </pluginRepository></pluginRepositories>
  <build><extensions><extension>
    <groupId>com.acme.models</groupId><artifactId>churn</artifactId><version>[1.0,2.0)</version>
  </extension></extensions></build>
</project>
'''

# Over HTTP: every repository (central included) is mirrored to the server on 127.0.0.1, so
# Maven cannot reach anything else; its deploy credentials answer the server's 401 challenge.
SETTINGS = '''<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">
  <mirrors><mirror><id>models</id><mirrorOf>*</mirrorOf><url>{url}</url></mirror></mirrors>
  <servers><server><id>models</id><username>{user}</username><password>{password}</password>
  </server></servers>
</settings>
'''


def run_mvn(work: Path, url: str, *, offline: bool = False, user: str = "",
            password: str = "") -> subprocess.CompletedProcess[str]:
    """``mvn validate`` of the consumer in ``work`` against the repository at ``url``, from a
    fresh local repository: offline for a ``file:`` URL, through settings.xml for HTTP."""
    mvn = shutil.which("mvn")
    if mvn is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but maven is missing: run .ci/install-packages.sh")
        pytest.skip("Debian's maven is not installed (.ci/install-packages.sh installs it)")
    # The one artifact a plugin-free ``validate`` needs besides the model, seeded from the jar
    # in Maven's own lib folder (/usr/share/maven/lib on Debian).
    plexus = sorted((Path(mvn).resolve().parents[1] / "lib").glob("plexus-utils*.jar"))
    if not plexus:
        pytest.skip(f"no plexus-utils jar in the lib folder of {mvn}")
    local = work / "m2"
    seed = local / "org/codehaus/plexus/plexus-utils/1.1"
    seed.mkdir(parents=True)
    shutil.copy(plexus[0], seed / "plexus-utils-1.1.jar")
    (seed / "plexus-utils-1.1.pom").write_text(
        "<project><modelVersion>4.0.0</modelVersion><groupId>org.codehaus.plexus</groupId>"
        "<artifactId>plexus-utils</artifactId><version>1.1</version></project>")
    (work / "pom.xml").write_text(CONSUMER.format(url=url))
    args = [mvn, "-B", "-q", f"-Dmaven.repo.local={local}"]
    if offline:
        args += ["-o", "-Daether.offline.protocols=file"]
    else:
        (work / "settings.xml").write_text(SETTINGS.format(url=url, user=user,
                                                           password=password))
        # -C: the checksum policy of a mirror comes from the mirrored repositories, and the
        # consumer POM's <checksumPolicy>fail</checksumPolicy> alone was not enforced through
        # the mirror (measured: a wrong .sha1 passed); --strict-checksums is.
        args += ["-s", str(work / "settings.xml"), "--strict-checksums"]
    return subprocess.run([*args, "validate"], cwd=work, capture_output=True, text=True,
                          timeout=120, check=False)
