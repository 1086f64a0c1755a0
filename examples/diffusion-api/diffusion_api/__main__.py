"""`python -m diffusion_api [--host H] [--port P]`: serve until stopped."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from diffusion_api import server


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="diffusion_api", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("DIFFUSION_API_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("DIFFUSION_API_PORT", "7861")),
                        help="0 lets the OS choose; the chosen port is printed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    httpd = server.make_server(args.host, args.port)

    def stop(signum: int, frame: object) -> None:
        # shutdown() waits for serve_forever() to return, so it must not run on the serving thread.
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = httpd.server_address[:2]
    state = "on" if httpd.app.fake_inference else "off"
    print(f"diffusion-api listening on http://{host}:{port} (fake inference: {state})", flush=True)
    try:
        httpd.serve_forever(poll_interval=0.1)
    finally:
        httpd.server_close()
    print("diffusion-api stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
