from __future__ import annotations

import base64

import pytest

from diffusion_api import payload, pipeline


def request(**fields):
    return payload.Txt2ImgRequest(prompt="a red fox", **fields)


def test_fake_inference_returns_one_image_per_batch_item(monkeypatch):
    monkeypatch.setenv("CI", "true")
    result = pipeline.Pipeline().txt2img(request(batch_size=3, seed=5))
    assert len(result["images"]) == 3
    assert base64.b64decode(result["images"][0])[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["info"] == {"prompt": "a red fox", "seed": 5, "sampler_name": "Euler", "steps": 20,
                              "fake_inference": True}


def test_random_seed_when_negative():
    result = pipeline.Pipeline(fake_inference=True).txt2img(request())
    assert 0 <= result["info"]["seed"] < 2**32


def test_real_inference_is_unavailable_under_stubs():
    # The stubbed instantiate_from_config raises NotImplementedError: the API must say so, not pretend.
    with pytest.raises(pipeline.InferenceUnavailable) as info:
        pipeline.Pipeline(fake_inference=False).txt2img(request())
    assert str(info.value).startswith("the model cannot be loaded: ldm.util.instantiate_from_config is a stub")


def test_sampling_unavailable_is_reported(monkeypatch):
    pipe = pipeline.Pipeline(fake_inference=False)
    pipe.model = pipeline.LatentDiffusion()
    with pytest.raises(pipeline.InferenceUnavailable) as info:
        pipe.txt2img(request())
    assert str(info.value).startswith("sampling is not available: k_diffusion.sampling.get_sigmas_karras is a stub")
    assert pipe.supports_depth() is False


def test_load_rejects_a_model_of_the_wrong_type(monkeypatch):
    monkeypatch.setattr(pipeline, "instantiate_from_config", lambda config: object())
    with pytest.raises(pipeline.InferenceUnavailable) as info:
        pipeline.Pipeline(fake_inference=False).load()
    assert str(info.value) == "ldm.models.diffusion.ddpm.LatentDiffusion did not build a LatentDiffusion"


def test_load_keeps_the_model(monkeypatch):
    built = pipeline.LatentDepth2ImageDiffusion()
    monkeypatch.setattr(pipeline, "instantiate_from_config", lambda config: built)
    pipe = pipeline.Pipeline(fake_inference=False)
    assert pipe.load() is built
    assert pipe.load() is built
    assert pipe.supports_depth() is True
