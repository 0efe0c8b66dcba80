"""The Platform Health Copilot: questions in words answered from gold through a typed tool catalog,
a router to cost, security, performance, reliability and knowledge agents, and writes only with approval."""
