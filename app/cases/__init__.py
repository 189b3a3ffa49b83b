"""Reports (事件): the closed loop from a resident's report to its rating."""
