-- Host: an ESXi transfer interface. Plans skip a Host that is not Ready and
-- copy through vCenter instead, so a Host is never a reason to hold up a plan
-- (Hosts are a sync unit of their own); maintenance is a pause, not a fault.
local on, blocker, blockers = conditions(obj)
if stale(obj) then return say("Progressing", "Waiting for the controller to observe the change") end
if on["InMaintenance"] then
  return say("Suspended", "In maintenance: plans skip this host and copy through vCenter")
end
if blocker then return say("Degraded", why(blocker, blockers)) end
if on["Ready"] then return say("Healthy", "Ready") end
return say("Progressing", "Waiting for validation and the connection test")
