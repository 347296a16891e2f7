"""`python -m app.channel_simulator [--host 127.0.0.1] [--port 8089]`"""

from app.channel_simulator.server import main

if __name__ == "__main__":
    main()
