using Durar.Api.Cli;

return await DurarCommandLine.RunAsync(args);
