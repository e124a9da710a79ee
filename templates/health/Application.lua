-- argoproj.io/Application: an app-of-apps root waits for a child Application
-- only if Argo CD can see the child's health (Argo CD removed this check from
-- its defaults in 1.8; docs/operator-manual/health.md gives it back this way).
local hs = {status = "Progressing", message = ""}
if obj.status ~= nil and obj.status.health ~= nil and obj.status.health.status ~= nil then
  hs.status = obj.status.health.status
  if obj.status.health.message ~= nil then hs.message = obj.status.health.message end
end
return hs
