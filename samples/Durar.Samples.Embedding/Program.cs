using Durar.Samples.Embedding;

// dotnet run --project samples/Durar.Samples.Embedding [-- <config file> [<data dir>]]
// The default config (sample.conf) talks to a local Ollama on 127.0.0.1:11434; give another file for another provider.
var configPath = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "sample.conf");
var dataDir = args.Length > 1 ? args[1] : Path.Combine(Environment.CurrentDirectory, "data", "embedding-sample");
return await SampleRun.RunAsync(configPath, dataDir, Console.Out);
