#!/usr/bin/python3
"""A stand-in for a ComfyUI server: its HTTP and websocket API as ComfyUI's server.py and
execution.py implement them (aiohttp, like ComfyUI), with a handful of nodes that render for
real (ffmpeg makes the MP4) and faults to inject. No GPU and no models: the nodes' work is a
wait per sampler step.

What matches ComfyUI (message and answer shapes copied from its server.py / execution.py):
  POST /prompt {prompt, client_id, prompt_id?}  -> {prompt_id, number, node_errors}
       a 200 carries node_errors when some outputs validated and others did not; a 400
       {error: {type, message, details, extra_info}, node_errors} when none did; the server does
       not deduplicate a repeated prompt_id
  GET  /prompt                                  -> {exec_info: {queue_remaining}}
  GET  /queue                                   -> {queue_running: [[number, id, prompt, extra, outputs]], queue_pending: [...]}
  POST /queue {delete: [ids]} | {clear: true}
  POST /interrupt {prompt_id?}                  interrupts the running prompt (only if it is that one)
  POST /api/jobs/{id}/cancel                    -> {cancelled: bool}   (unless --no-cancel-route)
  GET  /history/{id}                            -> {} while queued, running or unknown
  POST /history {delete: [ids]} | {clear: true}
  POST /upload/image (multipart image, type, subfolder, overwrite) -> {name, subfolder, type}
  GET  /view?filename=&subfolder=&type=
  GET  /ws?clientId=                            status first; then execution_start, execution_cached,
       executing {node, display_node, prompt_id} (node null = finished), progress {value, max,
       prompt_id, node}, executed {node, display_node, output, prompt_id}, execution_success,
       execution_error {prompt_id, node_id, node_type, executed, exception_message,
       exception_type, traceback, current_inputs, current_outputs}, execution_interrupted
Every route is also under /api, as in ComfyUI.

Test controls (not ComfyUI's): POST /_standin/faults {fail_node, drop_sockets_at_step,
cut_view_after_bytes, step_seconds}, GET /_standin/stats (submissions, uploads, interrupts,
cancels, history_deletes, views).
"""
import argparse
import asyncio
import json
import os
import subprocess
import time
import uuid

from aiohttp import web

# class_type -> (required inputs and their types, output node?, ui of an output)
NODES = {
    "UNETLoader": ({"unet_name": ["wan2.2_t2v_14B_fp8.safetensors", "wan2.2_i2v_14B_fp8.safetensors"],
                    "weight_dtype": "STRING"}, False),
    "CLIPLoader": ({"clip_name": ["umt5_xxl_fp8.safetensors"], "type": "STRING"}, False),
    "VAELoader": ({"vae_name": ["wan_2.1_vae.safetensors"]}, False),
    "CLIPTextEncode": ({"text": "STRING", "clip": "LINK"}, False),
    "LoadImage": ({"image": "INPUT_FILE"}, False),
    "WanImageToVideo": ({"positive": "LINK", "negative": "LINK", "vae": "LINK", "start_image": "LINK",
                         "width": "INT", "height": "INT", "length": "INT", "batch_size": "INT"}, False),
    "EmptyHunyuanLatentVideo": ({"width": "INT", "height": "INT", "length": "INT", "batch_size": "INT"}, False),
    "KSampler": ({"model": "LINK", "positive": "LINK", "negative": "LINK", "latent_image": "LINK", "seed": "INT",
                  "steps": "INT", "cfg": "FLOAT", "sampler_name": "STRING", "scheduler": "STRING", "denoise": "FLOAT"}, False),
    "VAEDecode": ({"samples": "LINK", "vae": "LINK"}, False),
    "CreateVideo": ({"images": "LINK", "fps": "FLOAT"}, False),
    "SaveVideo": ({"video": "LINK", "filename_prefix": "STRING", "format": "STRING", "codec": "STRING"}, True),
    "VHS_VideoCombine": ({"images": "LINK", "frame_rate": "FLOAT", "filename_prefix": "STRING", "format": "STRING"}, True),
    "SaveAnimatedWEBP": ({"images": "LINK", "filename_prefix": "STRING", "fps": "FLOAT"}, True),
    "PreviewImage": ({"images": "LINK"}, True),
}


def error(kind, message, details="", extra=None):
    return {"type": kind, "message": message, "details": details, "extra_info": extra or {}}


class Server:
    def __init__(self, root, cancel_route):
        self.root = root
        self.cancel_route = cancel_route
        for kind in ("input", "output", "temp"):
            os.makedirs(os.path.join(root, kind), exist_ok=True)
        self.pending = []  # [number, prompt_id, prompt, extra_data, outputs]
        self.running = None
        self.history = {}
        self.sockets = {}
        self.number = 0
        self.interrupt = False
        self.last_node = None
        self.faults = {"step_seconds": 0.05}
        self.stats = {"submissions": [], "uploads": [], "interrupts": 0, "cancels": [], "history_deletes": [],
                      "queue_deletes": [], "views": 0}
        self.wakeup = asyncio.Event()

    # --- websocket ---
    async def send(self, event, data, sid):
        message = {"type": event, "data": data}
        targets = list(self.sockets.values()) if sid is None else [self.sockets[sid]] if sid in self.sockets else []
        for ws in targets:
            try:
                await ws.send_json(message)
            except (ConnectionError, RuntimeError):
                pass

    def queue_info(self):
        return {"exec_info": {"queue_remaining": len(self.pending) + (1 if self.running else 0)}}

    async def websocket(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sid = request.rel_url.query.get("clientId", "") or uuid.uuid4().hex
        old = self.sockets.pop(sid, None)
        if old is not None:
            await old.close()
        self.sockets[sid] = ws
        try:
            await self.send("status", {"status": self.queue_info(), "sid": sid}, sid)
            if self.running and self.running[3].get("client_id") == sid and self.last_node is not None:
                await self.send("executing", {"node": self.last_node}, sid)
            async for _ in ws:
                pass
        finally:
            if self.sockets.get(sid) is ws:
                self.sockets.pop(sid, None)
        return ws

    async def drop_sockets(self):
        for ws in list(self.sockets.values()):
            await ws.close()
        self.sockets.clear()

    # --- validation (execution.validate_prompt) ---
    def validate_node(self, prompt, node_id, validated):
        if node_id in validated:
            return validated[node_id]
        node = prompt[node_id]
        spec, _ = NODES[node["class_type"]]
        errors = []
        ok = True
        for name, kind in spec.items():
            if name not in node["inputs"]:
                errors.append(error("required_input_missing", "Required input is missing", name, {"input_name": name}))
                continue
            value = node["inputs"][name]
            if isinstance(value, list):
                if len(value) != 2 or str(value[0]) not in prompt:
                    errors.append(error("bad_linked_input", "Bad linked input, must be a length-2 list of [node_id, slot_index]", name))
                    continue
                if not self.validate_node(prompt, str(value[0]), validated)[0]:
                    ok = False
                continue
            if kind == "INT" and (not isinstance(value, int) or isinstance(value, bool)):
                errors.append(error("invalid_input_type", "Failed to convert an input value to a INT value",
                                    f"{name}, {value}, invalid literal for int() with base 10: {value!r}"))
            elif kind == "FLOAT" and not isinstance(value, (int, float)):
                errors.append(error("invalid_input_type", "Failed to convert an input value to a FLOAT value", f"{name}, {value}"))
            elif isinstance(kind, list) and value not in kind:
                errors.append(error("value_not_in_list", "Value not in list", f"{name}: '{value}' not in {kind}"))
            elif kind == "INPUT_FILE" and not os.path.isfile(os.path.join(self.root, "input", value)):
                errors.append(error("custom_validation_failed", "Custom validation failed for node", f"image - Invalid image file: {value}"))
        result = (ok and not errors, errors)
        validated[node_id] = result
        return result

    def validate(self, prompt):
        if not isinstance(prompt, dict):
            return error("invalid_prompt", "Invalid prompt", "not an object"), [], {}
        outputs = []
        for node_id, node in prompt.items():
            if "class_type" not in node:
                return error("invalid_prompt", "Cannot execute because a node is missing the class_type property.",
                             f"Node ID '#{node_id}'"), [], {}
            if node["class_type"] not in NODES:
                return error("invalid_prompt", f"Cannot execute because node {node['class_type']} does not exist.",
                             f"Node ID '#{node_id}'"), [], {}
            if NODES[node["class_type"]][1]:
                outputs.append(node_id)
        if not outputs:
            return error("prompt_no_outputs", "Prompt has no outputs"), [], {}
        good, node_errors, validated, failed = [], {}, {}, []
        for output in outputs:
            if self.validate_node(prompt, output, validated)[0]:
                good.append(output)
                continue
            for node_id, (valid, reasons) in validated.items():
                if not valid and reasons:
                    entry = node_errors.setdefault(node_id, {"errors": reasons, "dependent_outputs": [],
                                                             "class_type": prompt[node_id]["class_type"]})
                    entry["dependent_outputs"].append(output)
                    failed += [f"{r['message']}: {r['details']}" for r in reasons]
        if not good:
            return error("prompt_outputs_failed_validation", "Prompt outputs failed validation", "\n".join(failed)), [], node_errors
        return None, good, node_errors

    # --- routes ---
    async def post_prompt(self, request):
        body = await request.json()
        if "prompt" not in body:
            return web.json_response({"error": {"type": "no_prompt", "message": "No prompt provided", "details": "",
                                                "extra_info": {}}, "node_errors": {}}, status=400)
        problem, outputs, node_errors = self.validate(body["prompt"])
        if problem is not None:
            return web.json_response({"error": problem, "node_errors": node_errors}, status=400)
        prompt_id = str(body.get("prompt_id") or uuid.uuid4())
        number = self.number
        self.number += 1
        extra = dict(body.get("extra_data", {}))
        if "client_id" in body:
            extra["client_id"] = body["client_id"]
        self.pending.append([number, prompt_id, body["prompt"], extra, outputs])
        self.stats["submissions"].append(prompt_id)
        self.wakeup.set()
        await self.send("status", {"status": self.queue_info()}, None)
        return web.json_response({"prompt_id": prompt_id, "number": number, "node_errors": node_errors})

    async def get_prompt(self, request):
        return web.json_response(self.queue_info())

    async def get_queue(self, request):
        return web.json_response({"queue_running": [self.running] if self.running else [], "queue_pending": self.pending})

    async def post_queue(self, request):
        body = await request.json()
        if body.get("clear"):
            self.pending = []
        for prompt_id in body.get("delete", []):
            self.stats["queue_deletes"].append(prompt_id)
            self.pending = [item for item in self.pending if item[1] != prompt_id]
        return web.Response(status=200)

    async def post_interrupt(self, request):
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = {}
        target = body.get("prompt_id") if isinstance(body, dict) else None
        if self.running and (target is None or self.running[1] == target):
            self.interrupt = True
            self.stats["interrupts"] += 1
        return web.Response(status=200)

    async def post_cancel(self, request):
        prompt_id = request.match_info["prompt_id"]
        self.stats["cancels"].append(prompt_id)
        if self.running and self.running[1] == prompt_id:
            self.interrupt = True
            return web.json_response({"cancelled": True})
        before = len(self.pending)
        self.pending = [item for item in self.pending if item[1] != prompt_id]
        return web.json_response({"cancelled": len(self.pending) < before})

    async def get_history(self, request):
        prompt_id = request.match_info.get("prompt_id")
        if prompt_id is None:
            return web.json_response(self.history)
        return web.json_response({prompt_id: self.history[prompt_id]} if prompt_id in self.history else {})

    async def post_history(self, request):
        body = await request.json()
        if body.get("clear"):
            self.history = {}
        for prompt_id in body.get("delete", []):
            self.stats["history_deletes"].append(prompt_id)
            self.history.pop(prompt_id, None)
        return web.Response(status=200)

    async def upload_image(self, request):
        post = await request.post()
        image = post.get("image")
        if image is None or not getattr(image, "filename", None):
            return web.Response(status=400)
        kind = post.get("type", "input")
        subfolder = post.get("subfolder", "")
        folder = os.path.join(self.root, kind, os.path.normpath(subfolder) if subfolder else "")
        path = os.path.abspath(os.path.join(folder, image.filename))
        if os.path.commonpath((os.path.join(self.root, kind), path)) != os.path.join(self.root, kind):
            return web.Response(status=400)
        os.makedirs(folder, exist_ok=True)
        name = image.filename
        if post.get("overwrite") not in ("true", "1"):
            stem, ext = os.path.splitext(name)
            i = 1
            while os.path.exists(os.path.join(folder, name)):
                name = f"{stem} ({i}){ext}"
                i += 1
        with open(os.path.join(folder, name), "wb") as out:
            out.write(image.file.read())
        self.stats["uploads"].append(name)
        return web.json_response({"name": name, "subfolder": subfolder, "type": kind})

    async def view(self, request):
        query = request.rel_url.query
        filename = query.get("filename", "")
        if not filename or filename[0] == "/" or ".." in filename:
            return web.Response(status=400)
        kind = query.get("type", "output")
        if kind not in ("input", "output", "temp"):
            return web.Response(status=400)
        folder = os.path.join(self.root, kind)
        if query.get("subfolder"):
            full = os.path.join(folder, query["subfolder"])
            if os.path.commonpath((os.path.abspath(full), folder)) != folder:
                return web.Response(status=403)
            folder = full
        path = os.path.join(folder, os.path.basename(filename))
        if not os.path.isfile(path):
            return web.Response(status=404)
        self.stats["views"] += 1
        cut = self.faults.pop("cut_view_after_bytes", None)
        if cut is not None:
            # Announces the whole length, sends part of it and drops the connection.
            response = web.StreamResponse(headers={"Content-Type": "video/mp4", "Content-Length": str(os.path.getsize(path))})
            await response.prepare(request)
            with open(path, "rb") as source:
                await response.write(source.read(cut))
            request.transport.close()
            return response
        return web.FileResponse(path, headers={"Content-Disposition": f'filename="{os.path.basename(path)}"'})

    async def set_faults(self, request):
        self.faults.update(await request.json())
        return web.json_response(self.faults)

    async def get_stats(self, request):
        return web.json_response(self.stats)

    # --- execution (execution.PromptExecutor) ---
    async def worker(self):
        while True:
            while not self.pending:
                self.wakeup.clear()
                await self.wakeup.wait()
            self.pending.sort(key=lambda item: item[0])
            self.running = self.pending.pop(0)
            number, prompt_id, prompt, extra, outputs = self.running
            try:
                outcome = await self.execute(prompt_id, prompt, extra.get("client_id"), outputs)
            finally:
                self.running = None
                self.last_node = None
            self.history[prompt_id] = {"prompt": [number, prompt_id, prompt, {}, outputs], **outcome}
            await self.send("status", {"status": self.queue_info()}, None)

    def order(self, prompt, outputs):
        seen, ordered = set(), []

        def visit(node_id):
            if node_id in seen:
                return
            seen.add(node_id)
            for value in prompt[node_id]["inputs"].values():
                if isinstance(value, list) and len(value) == 2:
                    visit(str(value[0]))
            ordered.append(node_id)
        for output in outputs:
            visit(output)
        return ordered

    def find_input(self, prompt, names):
        for node in prompt.values():
            for name in names:
                value = node["inputs"].get(name)
                if value is not None and not isinstance(value, list):
                    return value
        return None

    async def execute(self, prompt_id, prompt, sid, outputs):
        self.interrupt = False
        messages = []

        async def message(event, data, broadcast=False):
            data = {**data, "timestamp": int(time.time() * 1000)}
            messages.append([event, data])
            await self.send(event, data, sid if not broadcast else None)

        await message("execution_start", {"prompt_id": prompt_id})
        await message("execution_cached", {"nodes": [], "prompt_id": prompt_id})
        ui_outputs, meta, executed, step = {}, {}, [], 0
        for node_id in self.order(prompt, outputs):
            node = prompt[node_id]
            self.last_node = node_id
            await self.send("executing", {"node": node_id, "display_node": node_id, "prompt_id": prompt_id}, sid)
            steps = node["inputs"].get("steps", 1) if node["class_type"] == "KSampler" else 1
            for value in range(1, steps + 1):
                await asyncio.sleep(self.faults.get("step_seconds", 0.05))
                step += 1
                if self.faults.get("drop_sockets_at_step") == step:
                    self.faults.pop("drop_sockets_at_step")
                    await self.drop_sockets()
                if self.interrupt:
                    await message("execution_interrupted", {"prompt_id": prompt_id, "node_id": node_id,
                                                            "node_type": node["class_type"], "executed": executed}, True)
                    return {"outputs": {}, "status": {"status_str": "error", "completed": False, "messages": messages}}
                if node["class_type"] == "KSampler":
                    await self.send("progress", {"value": value, "max": steps, "prompt_id": prompt_id, "node": node_id}, sid)
            if self.faults.get("fail_node") == node_id:
                await message("execution_error", {
                    "prompt_id": prompt_id, "node_id": node_id, "node_type": node["class_type"], "executed": executed,
                    "exception_message": "Allocation on device 0 would exceed allowed memory. (out of memory)\n",
                    "exception_type": "torch.OutOfMemoryError", "traceback": ["  File \"execution.py\", line 1"],
                    "current_inputs": {}, "current_outputs": []})
                return {"outputs": {}, "status": {"status_str": "error", "completed": False, "messages": messages}}
            ui = self.render(prompt, node) if NODES[node["class_type"]][1] else None
            if ui is not None:
                ui_outputs[node_id] = ui
                meta[node_id] = {"node_id": node_id, "display_node": node_id, "parent_node": None, "real_node_id": node_id}
                await self.send("executed", {"node": node_id, "display_node": node_id, "output": ui, "prompt_id": prompt_id}, sid)
            executed.append(node_id)
        await self.send("executing", {"node": None, "prompt_id": prompt_id}, sid)
        await message("execution_success", {"prompt_id": prompt_id})
        return {"outputs": ui_outputs, "meta": meta, "status": {"status_str": "success", "completed": True, "messages": messages}}

    def render(self, prompt, node):
        kind = node["class_type"]
        if kind == "PreviewImage":
            return {"images": []}
        width = self.find_input(prompt, ["width"]) or 512
        height = self.find_input(prompt, ["height"]) or 512
        frames = self.find_input(prompt, ["length"]) or 17
        fps = self.find_input(prompt, ["fps", "frame_rate"]) or 16
        prefix = node["inputs"].get("filename_prefix", "ComfyUI")
        subfolder, stem = os.path.split(prefix)
        folder = os.path.join(self.root, "output", subfolder)
        os.makedirs(folder, exist_ok=True)
        extension = ".webp" if kind == "SaveAnimatedWEBP" else ".mp4"
        counter = 1
        while os.path.exists(os.path.join(folder, f"{stem}_{counter:05}_{extension}")):
            counter += 1
        name = f"{stem}_{counter:05}_{extension}"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}",
                        "-frames:v", str(frames), "-pix_fmt", "yuv420p", os.path.join(folder, name)], check=True)
        item = {"filename": name, "subfolder": subfolder, "type": "output"}
        if kind == "VHS_VideoCombine":
            return {"gifs": [{**item, "format": node["inputs"].get("format", "video/h264-mp4"), "frame_rate": fps}]}
        return {"images": [item], "animated": [True]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-cancel-route", action="store_true")
    args = parser.parse_args()

    async def run():
        server = Server(args.root, not args.no_cancel_route)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        routes = [
            web.get("/ws", server.websocket), web.post("/prompt", server.post_prompt), web.get("/prompt", server.get_prompt),
            web.get("/queue", server.get_queue), web.post("/queue", server.post_queue),
            web.post("/interrupt", server.post_interrupt), web.get("/history", server.get_history),
            web.get("/history/{prompt_id}", server.get_history), web.post("/history", server.post_history),
            web.post("/upload/image", server.upload_image), web.get("/view", server.view),
        ]
        app.add_routes([web.route(r.method, "/api" + r.path, r.handler) for r in routes] + routes)
        if server.cancel_route:
            app.add_routes([web.post("/api/jobs/{prompt_id}/cancel", server.post_cancel)])
        app.add_routes([web.post("/_standin/faults", server.set_faults), web.get("/_standin/stats", server.get_stats)])
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", args.port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        print(f"listening on {port}", flush=True)
        await server.worker()

    asyncio.run(run())


if __name__ == "__main__":
    main()
