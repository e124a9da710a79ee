"""mtvgen against a real vSphere API: pyvmomi talking to vcsim over TLS.

The inventory is shaped through the same API (folders, look-alike names,
distributed port groups, change tracking, snapshots, custom attributes), and
what mtvgen resolves is compared with what vCenter says."""

from __future__ import annotations

import json
import socket
import time

import pytest
from pyVmomi import vim

import vcsim
from conftest import out_file, run

# what every site here starts with: the simulator as its source
SOURCE = """\
apiVersion: mtvgen/v1
targetNamespace: apps
source:
  type: vsphere
  url: {url}
  vddkImage: quay.io/example/vddk:8
"""

SPEC = SOURCE + """\
  datacenters: [DC0]
  credentials:
    externalSecret: {{store: vault, key: mtv/vc}}
  hosts:
    - name: DC0_C0_H0
      ipAddress: 10.0.0.10
      credentials:
        externalSecret: {{store: vault, key: mtv/esx}}
networks:
  - {{source: VM Network, target: pod}}
  - {{source: DC0_DVPG0, target: app-net}}
storage:
  - {{source: LocalDS_0, storageClass: standard}}
  - {{source: LocalDS_1, storageClass: archive}}
plans:
  - name: db
    type: warm
    select:
      - folder: /DC0/vm/Prod/DB
  - name: web
    select:
      - glob: "web.*"
      - attributes: {{owner: team-web}}
      - name: "Ünïcode VM"
{extra}"""


@pytest.fixture(scope="module")
def sim(vcsim_binary):
    with vcsim.running("-dc", "2", "-vm", "1", "-ds", "2") as s:
        c = vcsim.connect(s)
        dc0, dc1 = sorted(vcsim.find(c, vim.Datacenter), key=lambda d: d.name)
        dvpg = vcsim.find(c, vim.dvs.DistributedVirtualPortgroup, "DC0_DVPG0")[0]
        net = [n for n in vcsim.find(c, vim.Network, "VM Network") if n.parent.parent == dc0][0]
        db = vcsim.folder(c, dc0, "Prod/DB")
        web = vcsim.folder(c, dc0, "Prod/Web")
        vms = {
            "db01": vcsim.create_vm(c, dc0, db, "DB 01", network=dvpg, cbt=True, disks_gb=(2, 3)),
            "db02": vcsim.create_vm(c, dc0, db, "db-02.Example", network=dvpg, cbt=True),
            "web1": vcsim.create_vm(c, dc0, web, "web.Example.COM", network=net),
            "uni": vcsim.create_vm(c, dc0, web, "Ünïcode VM", network=net),
            "tagged": vcsim.create_vm(c, dc0, web, "Billing", network=net),
            "a1": vcsim.create_vm(c, dc0, vcsim.folder(c, dc0, "Prod/A"), "app 1", network=net),
            "a2": vcsim.create_vm(c, dc0, vcsim.folder(c, dc0, "Prod/B"), "app 1", network=net),
            "other_dc": vcsim.create_vm(c, dc1, dc1.vmFolder, "DB 01"),
        }
        ds1 = [d for d in vcsim.find(c, vim.Datastore, "LocalDS_1") if d.parent.parent == dc0][0]
        vms["archive"] = vcsim.create_vm(c, dc0, web, "web.archive", network=net, datastore=ds1)
        s.ds1 = ds1
        vcsim.wait(vms["db02"].CreateSnapshot_Task("before", "", False, False))
        field = c.customFieldsManager.AddCustomFieldDef(name="owner", moType=vim.VirtualMachine)
        c.customFieldsManager.SetField(entity=vms["tagged"], key=field.key, value="team-web")
        s.content, s.vms, s.dvpg, s.net = c, vms, dvpg, net
        yield s


@pytest.fixture
def site(tmp_path, sim, monkeypatch):
    monkeypatch.setenv("VSPHERE_USER", vcsim.USER)
    monkeypatch.setenv("VSPHERE_PASSWORD", vcsim.PASSWORD)
    d = tmp_path / "sites" / "vc"
    d.mkdir(parents=True)
    (d / "site.yaml").write_text(SPEC.format(url=sim.url, extra=""))
    return d


def _lock(tmp_path, sim, *extra):
    return run(["lock", "sites/vc", "--ca-file", sim.cert, *extra], tmp_path)


def test_lock_ids_match_vcenter(tmp_path, sim, site):
    r = _lock(tmp_path, sim)
    assert r.exit_code == 0, r.output
    lock = json.loads((site / "mtvgen.lock").read_text())
    v = sim.vms
    assert lock["plans"]["db"] == [v["db01"]._moId, v["db02"]._moId]
    assert set(lock["plans"]["web"]) == {v["web1"]._moId, v["uni"]._moId, v["tagged"]._moId, v["archive"]._moId}
    assert [d["datastore"] for d in lock["vms"][v["archive"]._moId]["disks"]] == [sim.ds1._moId]
    assert lock["vms"][v["uni"]._moId]["path"] == "/DC0/vm/Prod/Web/Ünïcode VM"
    assert lock["vms"][v["uni"]._moId]["targetName"] == "ncode-vm"
    db01 = lock["vms"][v["db01"]._moId]
    assert db01["path"] == "/DC0/vm/Prod/DB/DB 01" and db01["changeTracking"] is True
    assert db01["instanceUuid"] == v["db01"].config.instanceUuid and db01["uuid"] == v["db01"].config.uuid
    assert "resourcePool" not in db01         # Forklift's inventory has none: both paths lock the same
    assert [n["network"] for n in db01["nics"]] == [sim.dvpg._moId]
    assert [d["capacity"] for d in db01["disks"]] == [2 << 30, 3 << 30]
    ds = v["db01"].config.hardware.device
    want_ds = {d.backing.datastore._moId for d in ds if isinstance(d, vim.vm.device.VirtualDisk)}
    assert {d["datastore"] for d in db01["disks"]} == want_ds  # opaque, path-like ids in vcsim
    assert lock["vms"][v["db02"]._moId]["hasSnapshot"] is True
    assert lock["vms"][v["tagged"]._moId]["attributes"] == [["owner", "team-web"]]
    assert lock["maps"]["vc-network"] == [[sim.net._moId], [sim.dvpg._moId]]
    assert lock["maps"]["vc-storage"] == [sorted(want_ds), [sim.ds1._moId]]
    host = vcsim.find(sim.content, vim.HostSystem, "DC0_C0_H0")[0]
    assert lock["esxiHosts"] == {"DC0_C0_H0": host._moId}
    assert lock["provider"]["identity"]["instanceUuid"] == sim.content.about.instanceUuid
    # the password itself, not the variable's name, must appear nowhere
    assert vcsim.PASSWORD not in r.output and vcsim.PASSWORD not in (site / "mtvgen.lock").read_text()


def test_build_from_live_lock(tmp_path, sim, site):
    assert _lock(tmp_path, sim).exit_code == 0
    r = run(["build", "--now", "2026-11-27T00:00:00Z"], tmp_path)
    assert r.exit_code == 1, r.output  # the db plan is warm and DB 02 has a snapshot
    assert "error[MTV043]" in r.stderr and "db-02.Example" in r.stderr
    spec = site / "site.yaml"
    spec.write_text(spec.read_text().replace("    type: warm\n", ""))
    r = run(["build", "--now", "2026-11-27T00:00:00Z"], tmp_path)
    assert r.exit_code == 0, r.output
    import yaml
    plan = yaml.safe_load(out_file(tmp_path / "out/vc", "plan-vc-db.yaml").read_text())
    assert [vm["id"] for vm in plan["spec"]["vms"]] == [sim.vms["db01"]._moId, sim.vms["db02"]._moId]
    host = yaml.safe_load(next((tmp_path / "out/vc").rglob("host-*.yaml")).read_text())
    assert host["spec"]["id"] == vcsim.find(sim.content, vim.HostSystem, "DC0_C0_H0")[0]._moId


def _unchanged_after(tmp_path, site, args, code):
    before = (site / "mtvgen.lock").read_bytes()
    t = time.monotonic()
    r = run(["lock", "sites/vc", *args], tmp_path)
    assert r.exit_code == code, r.output
    assert (site / "mtvgen.lock").read_bytes() == before, "a failed lock must leave the lock file alone"
    assert time.monotonic() - t < 15
    return r.stderr


def test_wrong_password(tmp_path, sim, site, monkeypatch):
    assert _lock(tmp_path, sim).exit_code == 0
    monkeypatch.setenv("VSPHERE_PASSWORD", "wrong")
    err = _unchanged_after(tmp_path, site, ["--ca-file", sim.cert], 2)
    assert f"rejected the credentials of '{vcsim.USER}'" in err and "wrong" not in err


def test_tls_not_trusted(tmp_path, sim, site):
    assert _lock(tmp_path, sim).exit_code == 0
    err = _unchanged_after(tmp_path, site, [], 2)
    assert "is not trusted" in err and "--ca-file" in err


def test_tls_hostname_mismatch(tmp_path, sim, site):
    assert _lock(tmp_path, sim).exit_code == 0
    spec = site / "site.yaml"
    spec.write_text(spec.read_text().replace("127.0.0.1", "localhost"))
    assert _lock(tmp_path, sim).exit_code == 2
    err = _unchanged_after(tmp_path, site, ["--ca-file", sim.cert], 2)
    assert "not valid for 'localhost'" in err
    r = run(["lock", "sites/vc", "--insecure"], tmp_path)  # explicit opt-out works, with a warning
    assert r.exit_code == 0 and "warning: --insecure" in r.stderr


def test_closed_port(tmp_path, sim, site):
    assert _lock(tmp_path, sim).exit_code == 0
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    spec = site / "site.yaml"
    spec.write_text(spec.read_text().replace(f":{sim.port}/", f":{port}/"))
    r = run(["lock", "sites/vc", "--ca-file", sim.cert], tmp_path)
    assert r.exit_code == 2 and "refused" in r.stderr


def test_no_answer_times_out(tmp_path, sim, site):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    spec = site / "site.yaml"
    spec.write_text(spec.read_text().replace(f":{sim.port}/", f":{srv.getsockname()[1]}/"))
    t = time.monotonic()
    r = run(["lock", "sites/vc", "--timeout", "1"], tmp_path)
    assert r.exit_code == 2 and "did not answer within 1 s" in r.stderr
    assert time.monotonic() - t < 5
    srv.close()


def test_missing_credentials(tmp_path, sim, site, monkeypatch):
    monkeypatch.delenv("VSPHERE_PASSWORD")
    r = run(["lock", "sites/vc", "--ca-file", sim.cert], tmp_path)
    assert r.exit_code == 2 and "VSPHERE_USER and VSPHERE_PASSWORD" in r.stderr


def test_ambiguous_and_missing_names(tmp_path, sim, site):
    assert _lock(tmp_path, sim).exit_code == 0
    spec = site / "site.yaml"
    spec.write_text(SPEC.format(url=sim.url, extra="  - name: apps\n    select:\n      - name: app 1\n"
                                                     "      - name: Billng\n"))
    err = _unchanged_after(tmp_path, site, ["--ca-file", sim.cert], 1)
    a1, a2 = sim.vms["a1"]._moId, sim.vms["a2"]._moId
    assert "error[MTV012]: name 'app 1' matches 2 VMs: " in err
    assert f"/DC0/vm/Prod/A/app 1 ({a1})" in err and f"/DC0/vm/Prod/B/app 1 ({a2})" in err
    assert "error[MTV010]: no VM matches name 'Billng'" in err and "closest: 'Billing'" in err
    # the same name in the other datacenter is out of scope (datacenters: [DC0])
    spec.write_text(SPEC.format(url=sim.url, extra="  - name: apps\n    select:\n      - path: /DC0/vm/Prod/A/app 1\n"))
    r = _lock(tmp_path, sim)
    assert r.exit_code == 0, r.output
    assert json.loads((site / "mtvgen.lock").read_text())["plans"]["apps"] == [a1]


def test_insufficient_privileges(tmp_path, site, monkeypatch):
    with vcsim.running("-deny-user", "viewer") as s:
        (site / "site.yaml").write_text(SPEC.format(url=s.url, extra=""))
        monkeypatch.setenv("VSPHERE_USER", "viewer")
        r = run(["lock", "sites/vc", "--ca-file", s.cert], tmp_path)
    assert r.exit_code == 2
    assert "user 'viewer' may not read the inventory" in r.stderr and "System.View" in r.stderr
    assert not (site / "mtvgen.lock").exists()


def test_relock_reports_changes_and_check_detects_drift(tmp_path, site, monkeypatch):
    with vcsim.running("-vm", "1", "-ds", "2") as s:
        c = vcsim.connect(s)
        dc = vcsim.find(c, vim.Datacenter)[0]
        net = vcsim.find(c, vim.Network, "VM Network")[0]
        dvpg = vcsim.find(c, vim.dvs.DistributedVirtualPortgroup, "DC0_DVPG0")[0]
        db = vcsim.folder(c, dc, "Prod/DB")
        vm = vcsim.create_vm(c, dc, db, "DB 01", network=dvpg)
        vcsim.create_vm(c, dc, vcsim.folder(c, dc, "Prod/Web"), "web.one", network=net)
        spec = SPEC.format(url=s.url, extra="").replace("    type: warm\n", "")
        (site / "site.yaml").write_text(spec.replace('      - name: "Ünïcode VM"\n', ""))
        r = run(["lock", "sites/vc", "--ca-file", s.cert], tmp_path)
        assert r.exit_code == 0, r.output
        r = run(["lock", "sites/vc", "--ca-file", s.cert, "--check"], tmp_path)
        assert r.exit_code == 0, r.output
        vcsim.wait(vm.Rename_Task("DB 01 (prod)"))
        vcsim.wait(vm.PowerOnVM_Task())
        vcsim.wait(vm.CreateSnapshot_Task("before", "", False, False))
        new = vcsim.create_vm(c, dc, db, "db-03", network=dvpg)
        before = (site / "mtvgen.lock").read_bytes()
        r = run(["lock", "sites/vc", "--ca-file", s.cert, "--check"], tmp_path)
        assert r.exit_code == 1
        # every change in words, each naming the VM by id and by the name the reviewer knew
        who = f"VM {vm._moId} 'DB 01'"
        for line in (f"{who} is now 'DB 01 (prod)'", f"{who}: power poweredOff -> poweredOn",
                     f"{who}: has a new snapshot", f"VM {new._moId} 'db-03' added at /DC0/vm/Prod/DB/db-03",
                     f"plan db gains {new._moId} 'db-03'"):
            assert line in r.stderr, r.stderr
        assert "does not match the inventory" in r.stderr
        assert (site / "mtvgen.lock").read_bytes() == before
        # the drift gate reads the plan's VMs live and names each change at the plan's line
        r = run(["verify", "sites/vc", "--ca-file", s.cert, "--plan", "db"], tmp_path)
        assert r.exit_code == 1, r.output
        for line in (f"error[MTV150]: plan 'db': {who} is now 'DB 01 (prod)'",
                     f"error[MTV150]: plan 'db': {who}: power poweredOff -> poweredOn",
                     f"error[MTV150]: plan 'db': {who}: has a new snapshot"):
            assert line in r.stderr, r.stderr
        assert "db-03" not in r.stderr                      # not in the locked plan: selection is the lock's
        assert (site / "mtvgen.lock").read_bytes() == before
        r = run(["lock", "sites/vc", "--ca-file", s.cert], tmp_path)
        assert r.exit_code == 0 and f"{who} is now" in r.stderr and "plan db: 1 -> 2 VM(s)" in r.stderr


def test_init_edit_lock_build(tmp_path, monkeypatch):
    monkeypatch.setenv("VSPHERE_USER", vcsim.USER)
    monkeypatch.setenv("VSPHERE_PASSWORD", vcsim.PASSWORD)
    with vcsim.running("-vm", "2") as s:
        c = vcsim.connect(s)
        dc = vcsim.find(c, vim.Datacenter)[0]
        net = vcsim.find(c, vim.Network, "VM Network")[0]
        for name in ["Web 1", "web.2"]:
            vcsim.create_vm(c, dc, vcsim.folder(c, dc, "Shop/Web"), name, network=net)
        vcsim.create_vm(c, dc, vcsim.folder(c, dc, "Shop"), "Shop DB", network=net)
        r = run(["init", "sites/shop", "--vsphere", s.url, "--ca-file", s.cert], tmp_path)
        assert r.exit_code == 0, r.output
        spec = tmp_path / "sites/shop/site.yaml"
        text = spec.read_text()
        # short plan names: objects are <site>-<plan>, so neither the datacenter nor the site again
        assert "name: web  # 2 VM(s)" in text and "- folder: \"/DC0/vm/Shop/Web\"" in text
        assert "name: shop  # 1 VM(s)" in text
        assert "# vddkImage:" in text and "# delivery:" in text and "# waves:" in text
        r = run(["lock", "sites/shop", "--ca-file", s.cert], tmp_path)
        assert r.exit_code == 1 and "no value given" in r.stderr  # placeholders cannot slip through
        text = text.replace("store: null", "store: vault")
        text = text.replace('source: "VM Network"\n    target: null', 'source: "VM Network"\n    target: pod')
        text = text.replace("target: null", "target: ignored").replace("storageClass: null", "storageClass: std")
        spec.write_text(text)
        r = run(["lock", "sites/shop", "--ca-file", s.cert], tmp_path)
        assert r.exit_code == 0, r.output
        r = run(["build", "--now", "2026-11-27T00:00:00Z"], tmp_path)
        assert r.exit_code == 0, r.output
        assert out_file(tmp_path / "out/shop", "plan-shop-web.yaml").exists()
        assert "built out/shop/ (7 objects; manifests only: the site has no `delivery:`)" in r.stderr
        assert not (tmp_path / "out/shop/argocd").exists()
        text = spec.read_text().replace("# delivery:", "delivery:").replace("#   repoURL:", "  repoURL:") \
            .replace("#   revision:", "  revision:").replace("#   argocd: {}", "  argocd: {}")
        spec.write_text(text)
        r = run(["build", "--now", "2026-11-27T00:00:00Z"], tmp_path)
        assert r.exit_code == 0, r.output
        assert (tmp_path / "out/shop/argocd").is_dir() and (tmp_path / "out/shop/bootstrap").is_dir()
        r = run(["init", "sites/shop", "--vsphere", s.url, "--ca-file", s.cert], tmp_path)
        assert r.exit_code == 2 and "already exists" in r.stderr


def test_first_pass_reads_only_what_selectors_need_and_details_fill_the_rest(sim):
    from compiler.inventory.vsphere import Credentials, VSphereSource

    def read(selects):
        src = VSphereSource(sim.url, Credentials(vcsim.USER, vcsim.PASSWORD), ca_file=sim.cert, progress=False)
        try:
            inv = src.snapshot(selects)
            narrow = {i: (vm.power_state, vm.guest_id, vm.host) for i, vm in inv.vms.items()}
            return src.details(inv, picked).vms, narrow
        finally:
            src.close()

    picked = {sim.vms["db01"]._moId, sim.vms["tagged"]._moId}
    everything, _ = read(None)
    by_folder, first_pass = read(frozenset({"folder"}))
    # a folder selection does not need power state, guest or host of 10k VMs...
    assert set(first_pass.values()) == {("", "", "")}
    # ...and the selected VMs end up with exactly the facts a full first pass gives
    assert {i: by_folder[i] for i in picked} == {i: everything[i] for i in picked}
    assert everything[sim.vms["tagged"]._moId].attributes == (("owner", "team-web"),)
    assert everything[sim.vms["db01"]._moId].power_state == "poweredOff" and everything[sim.vms["db01"]._moId].host
    # a selector on power state brings that one property into the first pass
    _, with_power = read(frozenset({"powerState"}))
    assert with_power[sim.vms["a1"]._moId][0] == "poweredOff" and with_power[sim.vms["a1"]._moId][1] == ""


def test_escaped_names_are_decoded_as_forklift_decodes_them(tmp_path, site, monkeypatch):
    """vCenter returns '/', '\\' and '%' in entity names escaped (%2f, %5c, %25); Forklift's
    inventory decodes them (url.PathUnescape). A live lock must name and place such a VM as a
    lock from Forklift's inventory would, so `name: web/01` and the folder `Team/A` select."""
    with vcsim.running("-vm", "1", "-ds", "2") as s:
        c = vcsim.connect(s)
        dc = vcsim.find(c, vim.Datacenter)[0]
        net = vcsim.find(c, vim.Network, "VM Network")[0]
        slash = vcsim.create_vm(c, dc, vcsim.folder(c, dc, "Prod"), "web%2f01", network=net)
        team = vcsim.create_vm(c, dc, vcsim.folder(c, dc, "Team%2fA"), "db %25 02", network=net)
        (site / "site.yaml").write_text(
            SPEC.format(url=s.url, extra="").split("plans:\n")[0]
            + "plans:\n  - name: one\n    select:\n      - name: web/01\n"
              "  - name: team\n    select:\n      - folder: /DC0/vm/Team/A\n")
        r = run(["lock", "sites/vc", "--ca-file", s.cert], tmp_path)
        assert r.exit_code == 0, r.output
        lock = json.loads((site / "mtvgen.lock").read_text())
        assert lock["plans"] == {"one": [slash._moId], "team": [team._moId]}
        assert (lock["vms"][slash._moId]["name"], lock["vms"][slash._moId]["path"]) == \
            ("web/01", "/DC0/vm/Prod/web/01")
        assert (lock["vms"][team._moId]["name"], lock["vms"][team._moId]["folder"]) == ("db % 02", "/DC0/vm/Team/A")


def test_a_datastore_in_a_datastore_cluster_has_forklifts_path(tmp_path, site):
    """Forklift's path walk stops at a StoragePod, so its inventory shows a datastore in a
    datastore cluster as /<name>; a live lock must agree, and still map it by name."""
    with vcsim.running("-vm", "1", "-ds", "2") as s:
        c = vcsim.connect(s)
        dc = vcsim.find(c, vim.Datacenter)[0]
        ds = vcsim.find(c, vim.Datastore, "LocalDS_1")[0]
        pod = dc.datastoreFolder.CreateStoragePod(name="Pod1")
        vcsim.wait(pod.MoveIntoFolder_Task([ds]))
        net = vcsim.find(c, vim.Network, "VM Network")[0]
        vm = vcsim.create_vm(c, dc, vcsim.folder(c, dc, "Prod/DB"), "DB 01", network=net, datastore=ds)
        (site / "site.yaml").write_text(SPEC.format(url=s.url, extra="").split("plans:\n")[0]
                                        + "plans:\n  - name: db\n    select:\n      - folder: /DC0/vm/Prod/DB\n")
        r = run(["lock", "sites/vc", "--ca-file", s.cert], tmp_path)
        assert r.exit_code == 0, r.output
        lock = json.loads((site / "mtvgen.lock").read_text())
        assert lock["datastores"][ds._moId]["path"] == "/LocalDS_1"
        assert lock["plans"] == {"db": [vm._moId]} and [ds._moId] in lock["maps"]["vc-storage"]


def test_a_standalone_hosts_compute_resource_is_its_cluster(tmp_path, site):
    """Forklift models a standalone host's ComputeResource as a cluster, so its inventory
    gives the host, and the VMs on it, that cluster; a live lock must agree."""
    with vcsim.running("-vm", "1", "-ds", "2", "-standalone-host", "1") as s:
        c = vcsim.connect(s)
        [host] = [h for h in vcsim.find(c, vim.HostSystem) if not isinstance(h.parent, vim.ClusterComputeResource)]
        (site / "site.yaml").write_text(SPEC.format(url=s.url, extra="").split("plans:\n")[0]
                                        + f"plans:\n  - name: solo\n    select:\n      - cluster: {host.parent.name}\n")
        r = run(["lock", "sites/vc", "--ca-file", s.cert], tmp_path)
        assert r.exit_code == 0, r.output
        lock = json.loads((site / "mtvgen.lock").read_text())
        on_host = sorted(vm._moId for vm in host.vm)
        assert on_host and lock["plans"] == {"solo": on_host}
        assert lock["hosts"][host._moId]["cluster"] == host.parent.name


def test_inventory_lists_a_live_vcenter_and_saves_a_snapshot_that_locks_the_same(tmp_path, sim, site):
    """`mtvgen inventory --save` against vCenter: the facts as the lock reads them, and a
    snapshot an offline CI locks from to the very same lock (issue 25 item 4)."""
    r = run(["inventory", "sites/vc", "--ca-file", sim.cert, "-o", "json", "--save", "snap.yaml"], tmp_path)
    assert r.exit_code == 0, r.output
    rows = {v["id"]: v for v in json.loads(r.stdout)}
    db01 = rows[sim.vms["db01"]._moId]
    assert (db01["name"], db01["cbt"], db01["disks"], db01["networks"]) == ("DB 01", True, 2, ["DC0_DVPG0"])
    assert rows[sim.vms["db02"]._moId]["snapshot"] is True
    assert run(["lock", "sites/vc", "--ca-file", sim.cert], tmp_path).exit_code == 0
    live = json.loads((site / "mtvgen.lock").read_text())
    assert run(["lock", "sites/vc", "--inventory", "snap.yaml"], tmp_path).exit_code == 0
    offline = json.loads((site / "mtvgen.lock").read_text())
    for key in ("vms", "plans", "maps", "networks", "datastores", "hosts", "host_ids"):
        assert offline.get(key) == live.get(key), key


def _vapi(sim):
    """A vAPI REST session on the simulator: what an administrator's tagging looks like."""
    import base64
    import ssl as ssl_
    import urllib.request
    base, ctx = sim.url.rsplit("/sdk", 1)[0], ssl_.create_default_context(cafile=sim.cert)

    def call(method, path, body=None, session=None):
        headers = {"Content-Type": "application/json"}
        if session:
            headers["vmware-api-session-id"] = session
        else:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{vcsim.USER}:{vcsim.PASSWORD}".encode()).decode()
        req = urllib.request.Request(base + "/rest/com/vmware/cis" + path, method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(req, context=ctx) as r:
            text = r.read()
        return json.loads(text)["value"] if text else None
    session = call("POST", "/session")
    return lambda method, path, body=None: call(method, path, body, session)


def test_where_selects_by_vsphere_tags_read_in_batches(tmp_path, sim, site):
    """Tags from vCenter's tagging API (issue 22 item 2): category names, a batch call for
    the attached objects, recorded in the lock; `where:` selects by them."""
    api = _vapi(sim)
    env = api("POST", "/tagging/category", {"create_spec": {"name": "env", "cardinality": "MULTIPLE",
                                                             "associable_types": ["VirtualMachine"], "description": ""}})
    prod = api("POST", "/tagging/tag", {"create_spec": {"name": "prod", "category_id": env, "description": ""}})
    test = api("POST", "/tagging/tag", {"create_spec": {"name": "test", "category_id": env, "description": ""}})
    for tag, vm in ((prod, "db01"), (prod, "web1"), (test, "db02")):
        api("POST", f"/tagging/tag-association/id:{tag}?~action=attach",
            {"object_id": {"type": "VirtualMachine", "id": sim.vms[vm]._moId}})
    spec = SPEC.format(url=sim.url, extra="").split("plans:\n")[0] + (
        "plans:\n  - name: prod\n    select:\n      - folder: /DC0/vm/Prod\n"
        "        where: \"'env' in vm.tags && 'prod' in vm.tags['env']\"\n")
    (site / "site.yaml").write_text(spec)
    r = run(["lock", "sites/vc", "--ca-file", sim.cert], tmp_path)
    assert r.exit_code == 0, r.output
    lock = json.loads((site / "mtvgen.lock").read_text())
    assert sorted(lock["plans"]["prod"]) == sorted([sim.vms["db01"]._moId, sim.vms["web1"]._moId])
    assert lock["vms"][sim.vms["db01"]._moId]["tags"] == [["env", "prod"]]
    # the drift gate reads the wave's tags again: nothing changed, nothing to say
    r = run(["verify", "sites/vc", "--plan", "prod", "--ca-file", sim.cert], tmp_path)
    assert r.exit_code == 0 and "2 VM(s) of 1 plan(s) are as" in r.stderr, r.output
    # the explorer shows them too, and a saved snapshot keeps them
    r = run(["inventory", "sites/vc", "--ca-file", sim.cert, "-o", "json", "--select",
             "{where: \"'env' in vm.tags && 'test' in vm.tags['env']\"}"], tmp_path)
    assert [v["name"] for v in json.loads(r.stdout)] == ["db-02.Example"], r.output


def test_tags_that_cannot_be_read_are_an_error_only_where_a_site_needs_them(tmp_path, site, sim, monkeypatch):
    from compiler.inventory import vsphere_tags

    def refused(*_a, **_k):
        raise vsphere_tags.TagsUnavailable("POST /rest/com/vmware/cis/session: HTTP 403 (the user lacks the "
                                           "privilege to read tags)")
    monkeypatch.setattr(vsphere_tags, "read", refused)
    spec = SPEC.format(url=sim.url, extra="").split("plans:\n")[0]
    (site / "site.yaml").write_text(spec + "plans:\n  - name: p\n    select:\n      - folder: /DC0/vm/Prod\n"
                                           "        where: \"'prod' in vm.tags['env']\"\n")
    r = run(["lock", "sites/vc", "--ca-file", sim.cert], tmp_path)
    assert r.exit_code == 2
    assert "a `where:` reads vm.tags, and vCenter 127.0.0.1" in r.stderr and "HTTP 403" in r.stderr
    assert "give the user the privilege to read tags" in r.stderr
    (site / "site.yaml").write_text(spec + "plans:\n  - name: p\n    select:\n      - folder: /DC0/vm/Prod\n"
                                           "        where: vm.cpuCount >= 1\n")
    r = run(["lock", "sites/vc", "--ca-file", sim.cert], tmp_path)
    assert r.exit_code == 0, r.output            # a where: without tags needs no tagging API


def test_tls_not_trusted_with_a_ca_file_says_what_the_server_presented(tmp_path, sim, site):
    """Issue 22 item 4: after --ca-file, advising "pass --ca-file" again helped nobody:
    say which file was tried and what the certificate is (subject, issuer, names)."""
    assert _lock(tmp_path, sim).exit_code == 0
    other = tmp_path / "other-ca.pem"
    with vcsim.running("-vm", "1") as second:            # another simulator: another self-signed CA
        other.write_text(open(second.cert).read())
    err = _unchanged_after(tmp_path, site, ["--ca-file", str(other)], 2)
    assert f"is not trusted with --ca-file {other}" in err
    assert "the server presents subject commonName=vcsim, issuer commonName=vcsim, " \
           "names IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1 (the URL's host is 127.0.0.1)" in err
    assert "pass the CA that issued this certificate" in err and "pass --ca-file with" not in err


FIT_SPEC = SOURCE + """\
  credentials:
    secret: vc-creds
networks:
  - {{source: VM Network, target: pod}}
storage:
  - {{source: LocalDS_0, storageClass: standard}}
throughput: {{perVM: 1MiB/s, total: 1GiB/s{limits}}}
waves:
  - {{wave: 1, start: "2027-01-09T21:00:00+01:00", duration: 30m}}
  - {{wave: 2, start: "2027-01-16T21:00:00+01:00", duration: 30m}}
plans:
  - name: app
    wave: 1
    batch: {{maxVMs: 2}}
    select:
      - folder: /DC0/vm/Fit
"""


def test_fit_spreads_the_batches_of_one_esxi_host_over_the_waves(tmp_path, vcsim_binary, monkeypatch):
    """Issue 21 item 1 against a real vSphere API: the lock reads each VM's ESXi host and
    disk sizes from vCenter; with a per-host limit, two batches on one host do not fit one
    window and fit moves the second; without it, nothing moves."""
    monkeypatch.setenv("VSPHERE_USER", vcsim.USER)
    monkeypatch.setenv("VSPHERE_PASSWORD", vcsim.PASSWORD)
    with vcsim.running("-vm", "0") as s:           # one cluster of two hosts
        c = vcsim.connect(s)
        dc = vcsim.find(c, vim.Datacenter)[0]
        h0, h1 = sorted(vcsim.find(c, vim.HostSystem), key=lambda h: h.name)[:2]
        net = vcsim.find(c, vim.Network, "VM Network")[0]
        where = vcsim.folder(c, dc, "Fit")
        for n, host in enumerate([h0, h0, h0, h0, h1, h1], 1):   # batches 1 and 2 on H0, batch 3 on H1
            vcsim.create_vm(c, dc, where, f"app-{n:02d}", network=net, host=host)
        verdicts = {}
        for limits in (", perHost: 2MiB/s", ""):
            d = tmp_path / limits.strip(", :/") / "sites" / "vc"
            d.mkdir(parents=True)
            (d / "site.yaml").write_text(FIT_SPEC.format(url=s.url, limits=limits))
            root = d.parent.parent
            r = run(["lock", "sites/vc", "--ca-file", s.cert], root)
            assert r.exit_code == 0, r.output
            lock = json.loads((d / "mtvgen.lock").read_text())
            assert {lock["hosts"][v["host"]]["name"] for v in lock["vms"].values()} == {h0.name, h1.name}
            r = run(["fit", "sites/vc", "--now", "2027-01-01T00:00:00+00:00"], root)
            assert r.exit_code == 0, r.output
            verdicts[limits] = r.stdout
        assert "+    batch: {maxVMs: 2, waves: {app-02: 2}}" in verdicts[", perHost: 2MiB/s"]
        assert verdicts[""] == ""
