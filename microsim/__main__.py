from microsim.cli import app

app()
