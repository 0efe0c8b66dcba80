"""The commands the bundle runs exist in the CLI."""

from tests.test_bundle import _resources


def test_bundle_commands_exist_in_the_cli():
    from lakesentinel.cli.main import app

    commands = set()
    for job in _resources().values():
        for task in job["tasks"]:
            params = task["python_wheel_task"]["parameters"][2:]
            commands.add(params[0])
    registered = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    missing = commands - registered
    assert not missing, f"bundle runs commands the CLI lacks: {missing}"
