// BenchmarkDotNet micro-benchmarks of the gateway's hot-path pieces (public APIs only). ShortRun, in-process, with the
// memory diagnoser; the whole set takes a few minutes:
//   dotnet run -c Release --project bench/Durar.Bench.Micro -- --filter '*'
//   dotnet run -c Release --project bench/Durar.Bench.Micro -- --filter '*Classif*'
//   dotnet run -c Release --project bench/Durar.Bench.Micro -- footprint [N]    (heap per idle actor, see Footprint.cs)
//   dotnet run -c Release --project bench/Durar.Bench.Micro -- persist [N]      (a Persist round trip on SQLite, PersistProbe.cs)
//   dotnet run -c Release --project bench/Durar.Bench.Micro -- session-json [N] (a turn's journal payloads written, SessionJsonProbe.cs)
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

if (args is ["footprint", ..])
    return Durar.Bench.Micro.Footprint.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20_000);

if (args is ["persist", ..])
    return await Durar.Bench.Micro.PersistProbe.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 4_000);

if (args is ["session-json", ..])
    return Durar.Bench.Micro.SessionJsonProbe.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200_000);

var config = DefaultConfig.Instance
    // In-process: no generated project to build (the repo's central package management and warnings-as-errors apply to
    // everything under it), and a short run fits a shared 2-core machine.
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .AddDiagnoser(MemoryDiagnoser.Default)
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(Durar.Bench.Micro.Fixtures).Assembly).Run(args, config);
return 0;
