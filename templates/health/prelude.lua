-- mtvgen: Argo CD health check for forklift.konveyor.io (kubev2v/forklift
-- pkg/apis/forklift/v1beta1, pkg/lib/condition). Argo CD runs it in
-- gopher-lua with the base, table and package libraries only: no `string`,
-- no `math`. Conditions are set by type; Critical and Error are blockers.
local function conditions(o)
  local on, blocker, blockers = {}, nil, 0
  if o.status == nil or o.status.conditions == nil then return on, nil, 0 end
  for _, c in ipairs(o.status.conditions) do
    if c.status == "True" then
      on[c.type] = c
      if c.category == "Critical" or c.category == "Error" then
        blockers = blockers + 1
        if blocker == nil then blocker = c end
      end
    end
  end
  return on, blocker, blockers
end

-- The controller has not yet looked at the current spec.
local function stale(o)
  local gen = o.metadata and o.metadata.generation
  return gen ~= nil and o.status ~= nil and (o.status.observedGeneration or 0) < gen
end

local function say(status, message) return {status = status, message = message} end

local function why(c, more)
  local text = c.type
  if c.message ~= nil and c.message ~= "" then text = text .. ": " .. c.message end
  if more ~= nil and more > 1 then text = text .. " (and " .. (more - 1) .. " more)" end
  return text
end

local function has(list, wanted)
  if list == nil then return false end
  for _, c in ipairs(list) do
    if c.type == wanted and c.status == "True" then return true end
  end
  return false
end

-- Per-VM outcome of a run (status.vms of a Migration, status.migration.vms of a Plan).
local function tally(vms)
  local n = {total = 0, succeeded = 0, failed = 0, canceled = 0, done = 0, queued = 0, paused = 0, warm = 0,
             reason = nil}
  if vms == nil then return n end
  for _, vm in ipairs(vms) do
    n.total = n.total + 1
    if has(vm.conditions, "Succeeded") then n.succeeded = n.succeeded + 1 end
    if has(vm.conditions, "Canceled") then n.canceled = n.canceled + 1 end
    if has(vm.conditions, "Failed") then
      n.failed = n.failed + 1
      if n.reason == nil and vm.error ~= nil and vm.error.reasons ~= nil and vm.error.reasons[1] ~= nil then
        n.reason = vm.name .. ": " .. vm.error.reasons[1]
      end
    end
    if vm.completed ~= nil then n.done = n.done + 1
    elseif vm.started == nil then n.queued = n.queued + 1
    elseif vm.phase == "CopyingPaused" then n.paused = n.paused + 1 end
    if vm.warm ~= nil or vm.phase == "CopyingPaused" then n.warm = n.warm + 1 end
  end
  return n
end

local function counts(n)
  local parts = {n.succeeded .. "/" .. n.total .. " succeeded"}
  if n.failed > 0 then table.insert(parts, n.failed .. " failed") end
  if n.canceled > 0 then table.insert(parts, n.canceled .. " canceled") end
  local open = n.total - n.done
  if open > 0 then table.insert(parts, open .. " not finished") end
  local text = table.concat(parts, ", ")
  if n.reason ~= nil then text = text .. " (" .. n.reason .. ")" end
  return text
end
