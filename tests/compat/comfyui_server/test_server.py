#!/usr/bin/python3
"""Checks the ComfyUI stand-in against ComfyUI's documented protocol (server.py, execution.py):
answer shapes of /prompt, /queue, /history, /upload/image, /view, and the websocket messages in
the order ComfyUI sends them. Whatever gen_comfyui is tested against must first pass this."""
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid

import aiohttp

HERE = os.path.dirname(os.path.abspath(__file__))
WORKFLOW = os.path.join(HERE, "..", "..", "fixtures", "comfyui", "wan_t2v.json")


def filled_workflow():
    with open(WORKFLOW) as source:
        text = source.read()
    for name, value in {"prompt": '"a kite"', "negative_prompt": '""', "seed": "5", "width": "64", "height": "64",
                        "frames": "9", "fps": "8", "filename_prefix": '"check/run"'}.items():
        text = text.replace('"{{%s}}"' % name, value)
    return json.loads(text)


class StandIn(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp()
        self.process = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--root", self.root],
                                        stdout=subprocess.PIPE, text=True)
        self.base = "http://127.0.0.1:" + self.process.stdout.readline().split()[-1]

    def tearDown(self):
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        shutil.rmtree(self.root)

    def run_async(self, coroutine):
        return asyncio.run(coroutine)

    def test_a_prompt_runs_with_comfyuis_messages_and_history(self):
        async def check():
            async with aiohttp.ClientSession() as http:
                ws = await http.ws_connect(self.base + "/ws?clientId=me")
                first = await ws.receive_json()
                self.assertEqual(first["type"], "status")
                self.assertIn("queue_remaining", first["data"]["status"]["exec_info"])
                self.assertEqual(first["data"]["sid"], "me")
                prompt_id = str(uuid.uuid4())
                async with http.post(self.base + "/prompt", json={"prompt": filled_workflow(), "client_id": "me",
                                                                   "prompt_id": prompt_id}) as answer:
                    self.assertEqual(answer.status, 200)
                    body = await answer.json()
                    self.assertEqual(set(body), {"prompt_id", "number", "node_errors"})
                    self.assertEqual(body["prompt_id"], prompt_id)
                    self.assertEqual(body["node_errors"], {})
                kinds = []
                while True:
                    message = await ws.receive_json(timeout=30)
                    kinds.append(message["type"])
                    data = message["data"]
                    if message["type"] == "progress":
                        self.assertEqual(set(data), {"value", "max", "prompt_id", "node"})
                    if message["type"] == "executing":
                        self.assertEqual(data["prompt_id"], prompt_id)
                        self.assertIn("node", data)
                    if message["type"] == "executed":
                        self.assertEqual(data["output"]["animated"], [True])
                        video = data["output"]["images"][0]
                        self.assertEqual(set(video), {"filename", "subfolder", "type"})
                    if message["type"] == "execution_success":
                        break
                order = [k for k in kinds if k != "status"]
                self.assertEqual(order[:2], ["execution_start", "execution_cached"])
                self.assertEqual(order[-2:], ["executing", "execution_success"])  # executing {node: null}
                self.assertIn("progress", order)
                async with http.get(self.base + "/history/" + prompt_id) as answer:
                    entry = (await answer.json())[prompt_id]
                self.assertEqual(entry["status"]["status_str"], "success")
                self.assertTrue(entry["status"]["completed"])
                self.assertEqual([m[0] for m in entry["status"]["messages"]],
                                 ["execution_start", "execution_cached", "execution_success"])
                self.assertEqual(entry["prompt"][1], prompt_id)
                video = entry["outputs"]["10"]["images"][0]
                async with http.get(self.base + "/view", params=video) as answer:
                    self.assertEqual(answer.status, 200)
                    self.assertEqual((await answer.read())[4:8], b"ftyp")
                async with http.post(self.base + "/history", json={"delete": [prompt_id]}) as answer:
                    self.assertEqual(answer.status, 200)
                async with http.get(self.base + "/api/history/" + prompt_id) as answer:
                    self.assertEqual(await answer.json(), {})
                await ws.close()
        self.run_async(check())

    def test_validation_errors_come_as_comfyui_reports_them(self):
        async def check():
            async with aiohttp.ClientSession() as http:
                graph = filled_workflow()
                graph["1"]["inputs"]["unet_name"] = "missing.safetensors"
                async with http.post(self.base + "/prompt", json={"prompt": graph}) as answer:
                    self.assertEqual(answer.status, 400)
                    body = await answer.json()
                self.assertEqual(body["error"]["type"], "prompt_outputs_failed_validation")
                self.assertEqual(set(body["error"]), {"type", "message", "details", "extra_info"})
                self.assertEqual(body["node_errors"]["1"]["class_type"], "UNETLoader")
                self.assertEqual(body["node_errors"]["1"]["errors"][0]["type"], "value_not_in_list")
                self.assertEqual(body["node_errors"]["1"]["dependent_outputs"], ["10"])
                graph["1"]["class_type"] = "NoSuchNode"
                async with http.post(self.base + "/prompt", json={"prompt": graph}) as answer:
                    self.assertEqual(answer.status, 400)
                    self.assertEqual((await answer.json())["error"]["type"], "invalid_prompt")
        self.run_async(check())

    def test_interrupt_queue_and_upload(self):
        async def check():
            async with aiohttp.ClientSession() as http:
                await http.post(self.base + "/_standin/faults", json={"step_seconds": 0.2})
                ws = await http.ws_connect(self.base + "/ws?clientId=me")
                first, second = str(uuid.uuid4()), str(uuid.uuid4())
                for prompt_id in (first, second):
                    await http.post(self.base + "/prompt", json={"prompt": filled_workflow(), "client_id": "me",
                                                                 "prompt_id": prompt_id})
                async with http.get(self.base + "/queue") as answer:
                    queue = await answer.json()
                self.assertEqual(len(queue["queue_running"]) + len(queue["queue_pending"]), 2)
                self.assertEqual(len(queue["queue_pending"][-1]), 5)  # [number, id, prompt, extra, outputs]
                await http.post(self.base + "/queue", json={"delete": [second]})
                await asyncio.sleep(0.3)
                await http.post(self.base + "/interrupt", json={"prompt_id": first})
                while True:
                    message = await ws.receive_json(timeout=30)
                    if message["type"] == "execution_interrupted":
                        self.assertEqual(set(message["data"]) - {"timestamp"}, {"prompt_id", "node_id", "node_type", "executed"})
                        break
                await asyncio.sleep(0.1)
                async with http.get(self.base + "/history/" + first) as answer:
                    entry = (await answer.json())[first]
                self.assertEqual(entry["status"]["status_str"], "error")
                self.assertEqual(entry["status"]["messages"][-1][0], "execution_interrupted")
                async with http.get(self.base + "/history/" + second) as answer:
                    self.assertEqual(await answer.json(), {})  # deleted before it ran
                form = aiohttp.FormData()
                form.add_field("image", b"\x89PNG\r\n", filename="a.png", content_type="image/png")
                async with http.post(self.base + "/upload/image", data=form) as answer:
                    self.assertEqual(await answer.json(), {"name": "a.png", "subfolder": "", "type": "input"})
                form = aiohttp.FormData()
                form.add_field("image", b"\x89PNG\r\n", filename="a.png", content_type="image/png")
                form.add_field("overwrite", "false")
                async with http.post(self.base + "/upload/image", data=form) as answer:
                    self.assertEqual((await answer.json())["name"], "a (1).png")  # ComfyUI's renaming
                await ws.close()
        self.run_async(check())


if __name__ == "__main__":
    unittest.main()
