"""``conda2docker convert``: environment (or lock) → conda-lock.yml + Dockerfile + context."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from conda2docker import image
from conda2docker.choices import (
    DEFAULT_CACHE,
    DEFAULT_GPU_MODE,
    DEFAULT_INSTALLER,
    DEFAULT_PRIORITY,
    DEFAULT_SOLVER,
    ActivationMode,
    Bootstrap,
    CacheMode,
    GpuMode,
    Installer,
    OutputFormat,
)
from conda2docker.commands._options import (
    ChannelAliasOpt,
    ChannelOpt,
    DefaultChannelsOpt,
    ForceOpt,
    MirrorOpt,
    OfflineOpt,
    PlatformOpt,
    PriorityOpt,
    SolverOpt,
)

if TYPE_CHECKING:
    from conda2docker.convert import ConvertRequest


def register(app: typer.Typer) -> None:
    app.command("convert")(convert_command)


EnvsArg = Annotated[
    list[Path],
    typer.Argument(help="environment.yml, conda-lock.yml, an explicit lock or requirements.txt; "
                   "several, or a folder searched for *.yml environments: one context each under "
                   "OUTPUT/<name>/ and OUTPUT/docker-bake.hcl", show_default=False,
                   metavar="ENV_OR_DIR..."),
]


def convert_command(
    env_files: EnvsArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Output directory (the build context; "
                                         "with several environments, their parent).")] = Path("docker"),
    installer: Annotated[
        Installer, typer.Option("--installer", help="micromamba (default) or rattler: what installs the lock in the env stage.")
    ] = DEFAULT_INSTALLER,
    vendor: Annotated[
        bool, typer.Option("--vendor", help="Copy every package file into the context (hash-checked): builds offline.")
    ] = False,
    platform: PlatformOpt = None,
    channel: ChannelOpt = None,
    channel_alias: ChannelAliasOpt = None,
    default_channels: DefaultChannelsOpt = "conda-forge",
    mirror: MirrorOpt = None,
    offline: OfflineOpt = False,
    channel_priority: PriorityOpt = DEFAULT_PRIORITY,
    solver: SolverOpt = DEFAULT_SOLVER,
    gpu: Annotated[
        GpuMode, typer.Option("--gpu", help="auto (a GPU variant when the environment asks for CUDA: pins, GPU names, "
        "CUDA builds, +cuXXX wheels, CUDA index URLs), yes or no.")
    ] = DEFAULT_GPU_MODE,
    cuda: Annotated[
        Optional[str],  # noqa: UP045 - typer needs Optional here
        typer.Option("--cuda", help="CUDA the GPU variant is solved for (__cuda; default: the CUDA the "
                     "environment names, else the CPU lock's, else 12.4); its images follow the lock.",
                     show_default=False),
    ] = None,
    fmt: Annotated[
        Optional[list[OutputFormat]],  # noqa: UP045
        typer.Option("--format", help="docker (Dockerfile, compose.yaml; the default) and/or apptainer "
                     "(conda2docker.def); repeatable."),
    ] = None,
    apptainer_bootstrap: Annotated[
        Bootstrap, typer.Option("--apptainer-bootstrap", help="docker (a registry) or docker-daemon (the local engine).")
    ] = "docker",
    from_image: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--from-image", help="With --format apptainer: a definition that reuses IMAGE, built "
                     "from the Dockerfile, from the local engine (Bootstrap: docker-daemon).",
                     show_default=False),
    ] = None,
    activation: Annotated[
        ActivationMode, typer.Option("--activation", help="auto (with --vendor: measure the packages' activate.d "
                          "scripts in the env stage's container when an engine has the base image), "
                          "packages (must measure) or table (conda2docker's table only).")
    ] = "auto",
    runtime_image: Annotated[str, typer.Option("--runtime-image", help="Base of the runtime stage (pin with @sha256:…).")] = image.RUNTIME_IMAGE,
    build_image: Annotated[str, typer.Option("--build-image", help="Base of the wheels (compile) stage.")] = image.BUILD_IMAGE,
    micromamba_image: Annotated[str, typer.Option("--micromamba-image", help="Image providing micromamba.")] = image.MICROMAMBA_IMAGE,
    python_image: Annotated[str, typer.Option("--python-image", help="Image running the rattler installer (without --vendor).")] = image.PYTHON_IMAGE,
    cuda_devel_image: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--cuda-devel-image", help="Base of the cuda-ext stage (default: the published nvidia/cuda devel image nearest the lock's CUDA; "
                     "pin with @sha256:…).", show_default=False),
    ] = None,
    uid: Annotated[int, typer.Option("--uid", help="UID of the runtime user.")] = image.UID,
    gid: Annotated[int, typer.Option("--gid", help="GID of the runtime user.")] = image.GID,
    buildkit: Annotated[bool, typer.Option("--buildkit", help="Use BuildKit cache mounts (needs DOCKER_BUILDKIT=1).")] = False,
    category: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--category", help="Also install this category of a conda-lock.yml input "
                     "(repeatable); main only by default, as micromamba installs it."),
    ] = None,
    tag_template: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--tag-template", help="Image tags in docker-bake.hcl, from {name}, {variant} and "
                     "{lock_hash} (e.g. registry.example.org/lab/{name}:{variant}-{lock_hash}; default "
                     "{name}:{variant}-{lock_hash}).", show_default=False),
    ] = None,
    cache: Annotated[
        CacheMode, typer.Option("--cache", help="BuildKit cache in docker-bake.hcl: registry (beside the "
                                "tags' repository), local (OUTPUT/.buildx-cache) or none.")
    ] = DEFAULT_CACHE,
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if the files on disk differ.")] = False,
    force: ForceOpt = False,
    allow_path: Annotated[
        Optional[list[Path]],  # noqa: UP045
        typer.Option("--allow-path", help="A directory outside the environment file's own tree that "
                     "local pip sources may be copied from into the build context (repeatable).",
                     show_default=False),
    ] = None,
) -> None:
    """Lock each environment and write a multi-stage Dockerfile and its build context to OUTPUT
    (several environments: OUTPUT/<name>/ each, and OUTPUT/docker-bake.hcl)."""
    from conda2docker.convert import ConvertRequest, convert

    request = ConvertRequest(
        env_file=env_files[0], output=output, installer=installer, vendor=vendor,
        platforms=tuple(platform or ()), channels=tuple(channel or ()), channel_alias=channel_alias,
        default_channels=default_channels,
        mirrors=tuple(mirror or ()), offline=offline, priority=channel_priority, solver=solver,
        gpu=gpu, cuda=cuda, runtime_image=runtime_image, build_image=build_image,
        micromamba_image=micromamba_image, python_image=python_image,
        cuda_devel_image=cuda_devel_image, uid=uid, gid=gid, buildkit=buildkit,
        formats=tuple(dict.fromkeys(fmt or [OutputFormat.docker])), apptainer_bootstrap=apptainer_bootstrap,
        apptainer_from_image=from_image, activation=activation, check=check, force=force,
        allow_paths=tuple(allow_path or ()), categories=tuple(dict.fromkeys(category or ())),
    )
    if _is_lab(env_files):
        _convert_lab(request, env_files, tag_template, cache)
        return
    result = convert(request, echo=lambda line: typer.echo(line, err=True))  # convert redacts
    bake_differs = False
    bake_path: Path | None = None
    if _wants_bake(request, tag_template, cache) and OutputFormat.docker in request.formats:
        from conda2docker.lab import single_bake

        bake_path, bake_differs = single_bake(request, result, tag_template=tag_template, cache=cache)
    if check:
        if bake_differs:
            typer.echo(f"{output / 'docker-bake.hcl'}: differs from what would be generated")
        for path in result.differing:
            typer.echo(f"{path}: differs from what would be generated")
        if result.differing or bake_differs:
            raise typer.Exit(1)
        typer.echo(f"{output}: up to date")
        return
    for path in result.written:
        typer.echo(f"wrote {path}")
    if bake_path is not None:
        typer.echo(f"wrote {bake_path}")
    if result.unchanged:
        typer.echo(f"{len(result.unchanged)} file(s) already up to date")
    typer.echo(f"variants: {', '.join(result.variants)}")
    if OutputFormat.docker in request.formats:
        for variant in result.variants:
            flag = "" if variant == "cpu" else " --variant gpu"
            typer.echo(f"next: conda2docker build {output}{flag} --tag IMAGE")


def _is_lab(inputs: list[Path]) -> bool:
    """Several inputs, or a directory: the lab layout (``OUT/<name>/``, ``conda2docker.lab``)."""
    return len(inputs) != 1 or inputs[0].is_dir()


def _wants_bake(request: "ConvertRequest", tag_template: str | None, cache: CacheMode) -> bool:
    """Whether a single environment also gets a bake file: when asked for something only bake
    carries (``--tag-template``, ``--cache`` other than ``none``, several ``--platform``)."""
    return tag_template is not None or cache != "none" or len(set(request.platforms)) > 1


def _convert_lab(request: "ConvertRequest", inputs: list[Path], tag_template: str | None,
                 cache: CacheMode) -> None:
    """Many environments: one context each, the bake file, a line per failure, the exit code."""
    from conda2docker.lab import convert_lab

    if OutputFormat.docker not in request.formats:
        raise typer.BadParameter("several environments are converted for docker buildx bake: "
                                 "add --format docker", param_hint="--format")
    if request.apptainer_from_image:
        raise typer.BadParameter("one image cannot stand for several environments: convert the "
                                 "environment it was built from alone", param_hint="--from-image")
    result = convert_lab(request, inputs, tag_template=tag_template, cache=cache,
                         echo=lambda line: typer.echo(line, err=True))
    for name, converted in result.converted:
        if request.check:
            for path in converted.differing:
                typer.echo(f"{path}: differs from what would be generated")
        else:
            typer.echo(f"{name}: {len(converted.written)} file(s) written, "
                       f"{len(converted.unchanged)} up to date; variants: {', '.join(converted.variants)}")
    if result.bake is not None:
        if request.check and result.bake_differs:
            typer.echo(f"{result.bake}: differs from what would be generated")
        elif not request.check:
            typer.echo(f"wrote {result.bake}")
    for failure in result.failed:
        for line in failure.lines:
            typer.echo(f"conda2docker: error: {failure.name}: {line}", err=True)
    total = len(result.converted) + len(result.failed)
    summary = f"converted {len(result.converted)} of {total} environment(s)"
    if result.failed:
        summary += f"; failed: {', '.join(f.name for f in result.failed)}"
    typer.echo(summary, err=True)
    if result.failed:
        raise typer.Exit(result.exit_code)
    if request.check and (result.bake_differs or any(c.differing for _, c in result.converted)):
        raise typer.Exit(1)
    if not request.check:
        typer.echo(f"next: cd {request.output} && docker buildx bake   "
                   f"(or conda2docker build {request.output / '<name>'} --tag IMAGE)")
