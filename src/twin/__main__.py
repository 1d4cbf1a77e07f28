from twin.cli.main import run

run()
